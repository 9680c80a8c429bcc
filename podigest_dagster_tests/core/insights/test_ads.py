import numpy as np
import pytest

from podigest_dagster.core.insights.ads import AD_PHRASE, SpanRule, ad_probabilities, ad_sentences, ad_spans
from podigest_dagster.core.insights.candidates import extract_candidates
from podigest_dagster.core.insights.embedding import Embedder
from podigest_dagster.core.insights.passages import build_sentences
from podigest_dagster_tests.support.insight_day import INSIGHTS, episode

SHOW_BEFORE = [
    "Today we're looking at why cities keep paving over their best land.",
    INSIGHTS["parking"],
    "Planners in Minneapolis saw this coming a decade ago.",
    "They scrapped parking minimums across the whole city in twenty twenty one.",
    "Within three years the number of new homes on small lots went up by about a third.",
]
READ = [
    "Before we go on, this show is brought to you by Harbourline Internet.",
    "Harbourline runs fibre straight to your building, with speeds up to two gigabits.",
    "There are no data caps, no contracts, and installation takes one afternoon.",
    "I switched my own flat over last spring and my video calls have never dropped since.",
    "Go to harbourline dot com slash streets and your first three months cost nothing.",
]
SHOW_AFTER = [
    "Okay, back to parking.",
    INSIGHTS["restaurants"],
    "Judges in the zoning cases kept siding with the cities, because the rules had been on the books for decades.",
    "That is why the reform had to come from councils rather than courts.",
    "The next fight is over loading zones, which take up more kerb space than bus stops in most downtowns.",
]
REWORDED = [
    "This part of the episode comes to you thanks to Northwind Bank.",
    "Northwind has no monthly fees and no minimum balance on its everyday account.",
    "You can open one from your phone in about five minutes.",
    "And if you move your salary over, they add fifty pounds to your account.",
    "Find out more at northwind bank dot co dot uk.",
]


@pytest.fixture(scope="module")
def embed():
    return Embedder().embed


def sentences_of(embed, lines: list[str]) -> tuple[list[str], np.ndarray]:
    texts = [s.text for s in build_sentences(episode("e1", "Street Talk", " ".join(lines)).segments)]
    return texts, embed(texts)


def test_an_ad_block_in_the_middle_of_an_episode_is_removed_whole(embed):
    lines = SHOW_BEFORE + READ + SHOW_AFTER
    texts, vectors = sentences_of(embed, lines)
    assert texts == lines
    assert ad_sentences(texts, vectors) == set(range(len(SHOW_BEFORE), len(SHOW_BEFORE) + len(READ)))

    kept = extract_candidates([episode("e1", "Street Talk", " ".join(lines))], min_value=-10.0, embed=embed).kept
    kept_text = " ".join(c.raw_text for c in kept)
    assert not any(line in kept_text for line in READ)
    assert INSIGHTS["parking"] in kept_text and INSIGHTS["restaurants"] in kept_text


def test_a_sponsor_read_in_the_shows_own_words_is_caught_without_the_phrase_list(embed):
    lines = SHOW_BEFORE + REWORDED + SHOW_AFTER
    assert not any(AD_PHRASE.search(line) for line in REWORDED[:4])
    texts, vectors = sentences_of(embed, lines)
    assert ad_sentences(texts, vectors) == set(range(len(SHOW_BEFORE), len(SHOW_BEFORE) + len(REWORDED)))
    kept = extract_candidates([episode("e1", "Street Talk", " ".join(lines))], min_value=-10.0, embed=embed).kept
    assert not any("Northwind" in c.raw_text for c in kept)


def test_show_talk_about_products_and_prices_is_not_a_read(embed):
    review = [
        "The new phone costs nine hundred dollars, a hundred more than last year's model.",
        "The battery is larger, but the real upgrade is the camera, which finally handles low light well.",
        "Most people should still buy last year's phone, because the price dropped by a third.",
        "Apple keeps the old model on sale precisely so the new one looks worth the premium.",
        "That pricing trick is called decoy pricing, and it works in almost every shop you walk into.",
    ]
    texts, vectors = sentences_of(embed, SHOW_BEFORE + review + SHOW_AFTER)
    assert ad_sentences(texts, vectors) == set()


def test_probabilities_are_one_per_sentence_and_high_inside_the_read(embed):
    texts, vectors = sentences_of(embed, SHOW_BEFORE + READ + SHOW_AFTER)
    p = ad_probabilities(texts, vectors)
    inside = p[len(SHOW_BEFORE) : len(SHOW_BEFORE) + len(READ)]
    outside = np.concatenate([p[: len(SHOW_BEFORE)], p[len(SHOW_BEFORE) + len(READ) :]])
    assert p.shape == (len(texts),) and ((0 <= p) & (p <= 1)).all()
    assert inside.min() > outside.max()


def test_a_span_opens_on_a_confident_sentence_bridges_a_short_dip_and_closes_when_the_show_resumes():
    rule = SpanRule(open_at=0.8, keep_at=0.4, max_gap=1)
    p = np.array([0.1, 0.5, 0.9, 0.6, 0.2, 0.85, 0.1, 0.1, 0.3, 0.1])
    assert ad_spans(p, rule) == [(1, 6)]
    assert ad_spans(np.array([0.1, 0.9, 0.6, 0.2, 0.6, 0.1]), rule) == [(1, 3)]
    assert ad_spans(np.array([0.5, 0.6, 0.7, 0.5]), rule) == []
    assert ad_spans(np.array([0.9, 0.1, 0.1, 0.9]), rule) == [(0, 1), (3, 4)]
    assert ad_spans(np.zeros(0), rule) == []


def test_the_hosts_own_words_between_a_reads_opening_and_its_address_go_with_the_read():
    texts = [
        "Planners in Minneapolis scrapped parking minimums in twenty twenty one.",  # 0
        "Today's episode is also brought to us by Harbourline.",  # 1: opening (detected)
        "Harbourline is a home internet company that runs fibre to your building.",  # 2: detected
        "I've long believed that a fast line at home changes how people work.",  # 3: host's words, missed
        "Most of my guests now record from their kitchens.",  # 4: missed
        "If you'd like to try it, visit harbourline.com/streets for three free months.",  # 5: address (detected)
        "Within three years the number of new homes on small lots went up by a third.",  # 6
        "Northwind Bank supports the show.",  # 7: another sponsor
        "Go to northwind.co.uk to open an account.",  # 8
    ]
    spans = [(1, 3), (5, 6), (7, 9)]
    from podigest_dagster.core.insights.ads import bridge_reads, sponsor_names

    assert {"harbourline"} <= sponsor_names(texts[1:3]) & sponsor_names(texts[5:6])
    assert bridge_reads(spans, texts) == [(1, 6), (7, 9)]
    assert bridge_reads([(1, 3), (30, 31)], texts + [""] * 20 + ["Visit harbourline.com today."]) == [(1, 3), (30, 31)]


def test_a_read_whose_pieces_say_the_same_sponsor_is_one_read_and_an_unnamed_announcement_joins_nothing():
    from podigest_dagster.core.insights.ads import bridge_reads

    texts = [
        "We reviewed every pull request together in one room.",  # 0
        "This episode is brought to you by Ledgerly Planner.",  # 1: opening (detected)
        "Small teams are fast alone, but deciding together is where they still stall.",  # 2: sounds like the show
        "Decisions end up in a document nobody reads.",  # 3
        "Ledgerly Planner is where teams decide what to build.",  # 4
        "Join ten thousand teams at northwindsoft.com/plan.",  # 5: address under the maker's name (detected)
        "Does this take you back to your first company?",  # 6: the show resumes
    ]
    assert bridge_reads([(1, 2), (4, 6)], texts) == [(1, 6)]  # the name said again inside the read
    thanked = [*texts[:5], "So thank you very much, Ledgerly Planner, for sponsoring this episode.", texts[6]]
    assert bridge_reads([(1, 2), (5, 6)], thanked) == [(1, 6)]  # the name said again where the read ends
    assert bridge_reads([(1, 2), (5, 6)], texts) == [(1, 2), (5, 6)]  # nothing ties the address to the opening
    announced = ["Coming up: heat pumps, food waste, and a quick word from our sponsor.", *texts[2:4],
                 "Go to harbourline.com/streets for three free months."]
    assert bridge_reads([(0, 1), (3, 4)], announced) == [(0, 1), (3, 4)]


def test_the_shows_first_sentences_right_after_a_short_read_are_not_swallowed_by_it(embed):
    claim = (
        "Night time traffic noise is a public health problem, because even when you sleep through it the noise "
        "keeps your sleep shallow and years of that push up blood pressure."
    )
    lines = [
        SHOW_BEFORE[1],
        "City Signals is supported by Metro Bikes.",
        "Ride anywhere in town for one low monthly price.",
        "Use promo code SIGNALS to get your first month free.",
        claim,
        "Quieter road surfaces and lower speed limits at night cut that noise by half in the cities that tried them.",
    ]
    texts, vectors = sentences_of(embed, lines)
    assert ad_sentences(texts, vectors) == {1, 2, 3}
    kept = extract_candidates([episode("e1", "City Signals", " ".join(lines))], min_value=-10.0, embed=embed).kept
    assert any(claim in c.raw_text for c in kept)


def test_a_read_starts_only_on_an_edge_or_a_sentence_that_sounds_like_one_on_its_own():
    from podigest_dagster.core.insights.ads import bridge_reads, read_edges

    texts = ["Our sponsor today is Harbourline.", "Fast fibre for your flat.", "Go to harbourline.com/x.", "Trees cool streets."]
    opens, closes = read_edges(texts)
    assert opens.tolist() == [True, False, False, False] and closes.tolist() == [False, False, True, False]
    rule = SpanRule(open_at=0.6, keep_at=0.4, max_gap=0, self_keep=0.3)
    p = np.array([0.9, 0.7, 0.95, 0.8])  # the last only because its neighbours are the read
    own = np.array([0.6, 0.35, 0.9, 0.1])
    assert ad_spans(p, rule, own, (opens, closes)) == [(0, 3)]
    assert ad_spans(p, rule) == [(0, 4)]  # the fitted rule alone, as trained

    # an opening that sounds like a read on its own starts one, even when the talk before it pulls its
    # neighbourhood probability below open_at; a sentence merely near one does not
    texts = ["We shipped it in ten weeks.", "This episode is brought to you by Harbourline.", "Fibre for flats.",
             "Go to harbourline.com/x.", "Back to the show."]
    opens, closes = read_edges(texts)
    p = np.array([0.05, 0.47, 0.3, 0.95, 0.1])
    own = np.array([0.03, 0.7, 0.1, 0.9, 0.05])
    assert ad_spans(p, rule, own, (opens, closes)) == [(1, 2), (3, 4)]
    assert bridge_reads(ad_spans(p, rule, own, (opens, closes)), texts) == [(1, 4)]
    assert ad_spans(p, rule, np.array([0.03, 0.4, 0.1, 0.9, 0.05]), (opens, closes)) == [(3, 4)]


def test_a_read_never_begins_or_ends_on_a_sentence_that_is_no_read_on_its_own():
    # The show's claim, then a short plug, then the show again: the plug's neighbourhood lifts the claim
    # to keep_at, but on its own the claim is plainly talk, so the read is the plug alone.
    rule = SpanRule(open_at=0.7, keep_at=0.4, max_gap=0, self_keep=0.3)
    p = np.array([0.1, 0.47, 0.91, 0.45, 0.1])
    own = np.array([0.1, 0.16, 0.89, 0.12, 0.1])
    no_edges = (np.zeros(5, dtype=bool), np.zeros(5, dtype=bool))
    assert ad_spans(p, rule, own, no_edges) == [(2, 3)]
    closes = np.array([False, False, False, True, False])
    assert ad_spans(p, rule, own, (no_edges[0], closes)) == [(2, 4)], "the call to action still closes it"


def test_a_reads_address_right_after_it_closes_it_and_a_read_told_in_pieces_is_bridged_by_its_domain():
    from podigest_dagster.core.insights.ads import bridge_reads, read_edges, sponsor_names

    texts = [
        "Let's get to it.",  # 0
        "This episode is brought to you by zapline.new, the app builder for people with ideas.",  # 1: opening
        "Most tools spit out code that looks great in a demo.",  # 2: the model misses the host's pitch
        "Zapline is different.",  # 3
        "Founders are using Zapline to build real businesses.",  # 4: detected, but none of 4-5 is an edge
        "Designers are launching campaigns without waiting in line.",  # 5
        "Check it out at zapline.new/show.",  # 6: the address, p just below keep_at next to the show's talk
        "Before I build one, let's say what a harness is.",  # 7: the show resumes
    ]
    opens, closes = read_edges(texts)
    assert opens.tolist()[1] and closes.tolist()[6]
    assert "zapline" in sponsor_names(texts[1:2])
    rule = SpanRule(open_at=0.7, keep_at=0.4, max_gap=0, self_keep=0.3)
    p = np.array([0.1, 0.84, 0.11, 0.31, 0.89, 0.65, 0.38, 0.15])
    own = np.array([0.1, 0.87, 0.09, 0.05, 0.35, 0.35, 0.44, 0.1])
    spans = ad_spans(p, rule, own, (opens, closes))
    assert spans == [(1, 2), (4, 7)], "without its address the middle would be dropped as the show's talk"
    assert bridge_reads(spans, texts) == [(1, 7)]
    p_show = np.array([0.1, 0.84, 0.11, 0.31, 0.89, 0.65, 0.1, 0.15])  # no read around the last lines
    no_close = closes.copy()
    no_close[6] = False
    assert ad_spans(p_show, rule, own, (opens, no_close)) == [(1, 2)]


def test_a_read_in_the_hosts_own_words_runs_on_while_the_sponsor_is_named_again():
    from podigest_dagster.core.insights.ads import follow_named_sponsor

    texts = [
        "So let's see if it works.",  # 0
        "This video is sponsored by Quillmartin.",  # 1: the opening, detected alone
        "Look at that, their ultimate travel jacket.",  # 2
        "Quillmartin said I could talk about anything on their site.",  # 3
        "The guy who designed it has ten sewing machines in his garage.",  # 4
        "I think the fit is good for people getting into waxed cotton.",  # 5: the host's review, no cue at all
        "That's smart.",  # 6
        "Both pieces are lent to me by Quillmartin, but they're very cool.",  # 7: named again, no address
        "Now, back to the story of the brand that invented the polo shirt.",  # 8
        "It was founded in the Bronx in nineteen sixty seven.",  # 9
    ] + ["The show goes on about its subject."] * 8 + ["Quillmartin came up again much later."]
    assert follow_named_sponsor([(1, 2)], texts) == [(1, 8)]
    assert follow_named_sponsor([(1, 2), (4, 6)], texts) == [(1, 8)]
    # an unnamed read, or a sponsor named by an ordinary word, is left as it was
    assert follow_named_sponsor([(0, 1)], texts) == [(0, 1)]
    common = [t.replace("Quillmartin", "Customer") for t in texts]
    assert follow_named_sponsor([(1, 2)], common) == [(1, 2)]


def test_a_followed_read_runs_on_over_what_it_introduced_and_stops_at_the_shows_own_subject():
    from podigest_dagster.core.insights.ads import follow_named_sponsor

    texts = [
        "Today, the story of the brand that invented the polo shirt, and of its founder Pemberton.",  # 0
        "This video is sponsored by Quillmartin.",  # 1: the opening
        "Quillmartin said I could talk about anything, so I want to talk about Tobias.",  # 2: Tobias, new here
        "Tobias designs their jackets from deadstock Harrowgate canvas.",  # 3
        "Both pieces are lent to me by Quillmartin.",  # 4: the sponsor's last mention
        "Harrowgate canvas is why Tobias is so important to me.",  # 5: what the read introduced
        "You have to know people to find that cloth today.",  # 6
        "So thank you very much, Tobias.",  # 7
        "Anyway, Pemberton grew up in a small flat above a tailor's shop.",  # 8: the show's own subject
        "And his first shop sold only ties.",  # 9
        "Pemberton later said the ties paid for everything.",  # 10
    ]
    assert follow_named_sponsor([(1, 2)], texts) == [(1, 8)]
    # what the show named before the read never extends it
    shown = [texts[0].replace("Pemberton", "Pemberton, the designer Tobias and Harrowgate canvas")] + texts[1:]
    assert follow_named_sponsor([(1, 2)], shown) == [(1, 5)]


def test_a_sentence_that_seeded_a_read_stays_in_it_however_little_it_sounds_like_one_alone():
    # 'Tally is a smart valve for your radiators ...' (p 0.78 with its neighbours, own 0.29), 'It turns the
    # heating down ...', then the address: the read is all three, not the address alone
    rule = SpanRule(open_at=0.7, keep_at=0.4, max_gap=0, self_keep=0.3)
    p = np.array([0.3, 0.78, 0.61, 0.78, 0.24])
    own = np.array([0.14, 0.29, 0.13, 0.71, 0.06])
    closes = np.array([False, False, False, True, False])
    assert ad_spans(p, rule, own, (np.zeros(5, dtype=bool), closes)) == [(1, 4)]


def test_a_read_announced_as_a_break_and_named_as_the_episodes_sponsor_is_removed_from_the_break_on():
    from podigest_dagster.core.insights.ads import follow_named_sponsor, read_edges, sponsor_names

    texts = [
        "I always learn something from my conversations with him.",  # 0
        "Before we begin, though, let's take a quick commercial break.",  # 1: the break, no sponsor named
        "Arthur C. Clarke once said that advanced technology is indistinguishable from magic.",  # 2: lead-in
        "An even greater magic is how the internet holds together.",  # 3
        "And one of the unseen forces driving this magic comes from the sponsors of this episode, Quillcore.",  # 4
        "Think about the architecture of the internet.",  # 5
        "Much of the scaffolding comes from Quillcore.",  # 6
        "Quillcore processors help run the cloud and give you crazy bang for the buck.",  # 7
        "Where there's cloud, there's Quillcore.",  # 8
        "Rahul, welcome back to the show.",  # 9: the show resumes
    ]
    opens, _ = read_edges(texts)
    assert opens[4] and "quillcore" in sponsor_names(texts[4:5])
    assert follow_named_sponsor([(4, 5)], texts) == [(1, 9)]
    # a break announced with no named read after it takes nothing
    assert follow_named_sponsor([(9, 10)], texts[:9] + ["This show is brought to you by nobody in particular."]) == [(9, 10)]


def test_an_opening_that_names_its_sponsor_and_the_address_that_names_it_again_are_one_read():
    from podigest_dagster.core.insights.ads import opening_to_address, read_spans

    texts = [
        "But before we go there, let's take a quick commercial break.",  # 0
        "Hey, I want to thank Quillcore for supporting the show.",  # 1: opening, sponsor named
        "If you haven't already, check out their business platform.",  # 2
        "It lets your IT team fix a laptop remotely, even when it is switched off.",  # 3: sounds like the show
        "For more details, head on over to quillcore dot in slash pro.",  # 4: the address names it again
        "So, Rahul, tell me about your childhood.",  # 5
    ]
    assert opening_to_address(texts) == [(1, 5)]
    low = np.full(len(texts), 0.1)  # the model finds none of it: the edges alone decide
    assert read_spans(texts, low, low) == [(0, 5)]
    other = [*texts[:4], "For more details, head on over to northwind dot in slash pro.", texts[5]]
    assert opening_to_address(other) == [], "an address that names another sponsor closes nothing"
