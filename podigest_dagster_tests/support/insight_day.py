"""Hand-written podcast transcripts for insight tests: several shows and unrelated domains, with the
insights planted among ads, intros, outros, small talk, boilerplate and bare questions."""

from __future__ import annotations

from podigest_dagster.core.insights.candidates import EpisodeTranscript, Segment

WORDS_PER_SECOND = 2.5


def segments_from_text(text: str, words_per_segment: int = 11) -> list[Segment]:
    """Cut speech into Whisper-like segments of fixed word counts, ignoring sentence boundaries."""
    tokens = text.split()
    out, t = [], 0.0
    for seq, i in enumerate(range(0, len(tokens), words_per_segment)):
        chunk = tokens[i : i + words_per_segment]
        duration = len(chunk) / WORDS_PER_SECOND
        out.append(Segment(seq, round(t, 2), round(t + duration, 2), " ".join(chunk)))
        t += duration
    return out


def episode(episode_id: str, podcast: str, text: str, title: str | None = None) -> EpisodeTranscript:
    feed = f"https://feeds.example.org/{podcast.lower().replace(' ', '-')}.xml"
    return EpisodeTranscript(
        episode_id=episode_id,
        podcast=podcast,
        title=title or f"{podcast} episode {episode_id}",
        feed_url=feed,
        segments=segments_from_text(text),
        link=f"https://example.org/{episode_id}",
        enclosure_url=f"https://cdn.example.org/{episode_id}.mp3",
    )


INSIGHTS = {
    "parking": "Free parking is one of the most expensive things a city gives away, because every space "
    "occupies land worth thousands of dollars a year that could hold housing or shops instead.",
    "parking_paraphrase": "When a city hands out parking for free, it is effectively giving drivers land "
    "worth thousands of dollars every year, land that could otherwise hold homes and businesses.",
    "index_funds": "Over fifteen years about ninety percent of active fund managers trail a plain index "
    "fund, mostly because their higher fees compound against investors year after year.",
    "index_funds_paraphrase": "Roughly nine in ten stock pickers lose to a simple index fund over fifteen "
    "years, and the main reason is that their higher fees keep compounding against the investor.",
    "heat_pumps": "Modern heat pumps keep heating homes even at minus twenty degrees, because the newest "
    "compressors stay efficient in deep cold, which removes the main argument for gas boilers.",
    "heat_pumps_paraphrase": "The latest heat pumps now work at twenty below zero since new compressor designs "
    "keep their efficiency in freezing weather, so the old case for gas boilers is collapsing.",
    "sleep": "People who sleep less than six hours a night have about a twenty percent higher risk of "
    "heart disease, because short sleep keeps blood pressure elevated through the night.",
    "restaurants": "Restaurants make most of their profit on drinks rather than food, since a soda costs a "
    "few cents to pour and sells for three dollars, while dishes barely break even.",
    "judges": "Judges hand down harsher sentences just before their lunch break than right after it, which "
    "shows that decision fatigue shapes legal outcomes more than most courts admit.",
    "batteries": "Battery pack prices fell by about ninety percent in a decade, which is why electric cars "
    "are now reaching price parity with petrol cars in Europe and China.",
    "gut": "The bacteria in a patient's gut can decide whether cancer immunotherapy works, because some "
    "microbes train immune cells to recognise tumours more aggressively.",
}

MONEY = (
    "Welcome back to Money Matters, I'm your host Dana Reyes. "
    "Today we'll talk about fees, funds and a few surprises. "
    "How are you doing? Oh, I'm good, the weather here is terrible though, haha. "
    "This episode is brought to you by Acme Mattress. Use code SLEEP for twenty percent off at acme dot com. "
    "So, um, what does the data say about active managers? "
    f"Well, you know, {INSIGHTS['index_funds']} "
    "That is why we keep telling people the same thing. "
    f"{INSIGHTS['parking_paraphrase']} "
    "I went to the beach last weekend with my kids and it was great. "
    "Thanks for listening, and please rate and review us on Apple Podcasts."
)

CITIES = (
    "Welcome to City Lab Talk, the show about how cities work. "
    "Later in the show we'll get to bike lanes. "
    f"Um, so {INSIGHTS['parking']} "
    "Yeah, that's so funny, I love that. "
    f"{INSIGHTS['heat_pumps_paraphrase']} "
    "Support for this podcast comes from Cloudly, try it free for thirty days. "
    "Don't forget to subscribe and share the show with a friend. "
    "See you next week."
)

HEALTH = (
    "Hi everyone and welcome back to Body and Mind. "
    "Good morning, how's it going? "
    f"{INSIGHTS['sleep']} "
    "What do you think about naps? "
    f"And, uh, {INSIGHTS['gut']} "
    f"{INSIGHTS['judges']} "
    "Body and Mind is produced by Wellness Audio and recorded in our studio in Leeds. "
    "Thanks for tuning in."
)

ENERGY = (
    "You're listening to Grid Talk, I'm your host Sam. "
    f"{INSIGHTS['heat_pumps']} "
    f"{INSIGHTS['batteries']} "
    "It was great, really great. "
    f"{INSIGHTS['index_funds_paraphrase']} "
    "Grid Talk is an independent production, made possible by listeners like you. "
    "Join us on Patreon to support the show."
)

FOOD = (
    "Welcome to Kitchen Science. "
    f"{INSIGHTS['restaurants']} "
    "They said it was fine. "
    "Visit kitchenscience dot com slash deals for a free trial. "
    "That's all for today, see you soon."
)


def day_episodes() -> list[EpisodeTranscript]:
    """One day of five shows: three insights said by two shows each, four said by one."""
    return [
        episode("money-1", "Money Matters", MONEY),
        episode("cities-1", "City Lab Talk", CITIES),
        episode("health-1", "Body and Mind", HEALTH),
        episode("energy-1", "Grid Talk", ENERGY),
        episode("food-1", "Kitchen Science", FOOD),
    ]
