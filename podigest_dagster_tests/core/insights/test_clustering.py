from dataclasses import replace

import numpy as np

from podigest_dagster.core.insights.candidates import Candidate, extract_candidates
from podigest_dagster.core.insights.clustering import cluster_candidates, embed_passages
from podigest_dagster.core.insights.embedding import Embedder
from podigest_dagster.core.insights.scoring import insight_score
from podigest_dagster_tests.support.insight_day import INSIGHTS, episode

DISTINCT_SAME_TOPIC = {
    "parking": "Congestion pricing in London cut traffic in the centre by about thirty percent within a year "
    "of its launch, because drivers shifted to buses and off-peak hours.",
    "sleep": "Caffeine has a half-life of about five hours, so an afternoon coffee still blocks deep sleep "
    "at midnight.",
    "restaurants": "Most restaurants fail in their first year because owners underestimate rent and staff costs.",
    "batteries": "Electric cars need fewer repairs than petrol cars because they have far fewer moving "
    "parts, so owners spend about forty percent less on maintenance.",
}


def clusters_of(*episodes):
    kept = extract_candidates(list(episodes)).kept
    return cluster_candidates(kept, Embedder().embed([c.text for c in kept]))


def test_embeddings_are_unit_length_384_float32_from_the_bundled_model():
    vectors = Embedder().embed(["one idea", "another idea"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_paraphrases_by_different_shows_fall_in_one_cluster_with_their_support():
    clusters = clusters_of(
        episode("a1", "Money Matters", f"{INSIGHTS['index_funds']} {INSIGHTS['restaurants']}"),
        episode("b1", "Grid Talk", f"{INSIGHTS['index_funds_paraphrase']} {INSIGHTS['batteries']}"),
        episode("c1", "City Lab", f"{INSIGHTS['parking']} {INSIGHTS['heat_pumps_paraphrase']}"),
        episode("d1", "Home Energy", f"{INSIGHTS['heat_pumps']} {INSIGHTS['parking_paraphrase']}"),
    )
    by_support = sorted((c.support, sorted(c.podcasts)) for c in clusters)
    assert len(clusters) == 5
    assert by_support[-3:] == [
        (2, ["City Lab", "Home Energy"]),
        (2, ["City Lab", "Home Energy"]),
        (2, ["Grid Talk", "Money Matters"]),
    ]


def test_different_ideas_on_the_same_topic_stay_apart():
    texts = [INSIGHTS[topic] for topic in DISTINCT_SAME_TOPIC] + list(DISTINCT_SAME_TOPIC.values())
    clusters = clusters_of(*(episode(f"e{i}", f"Show {i}", t) for i, t in enumerate(texts)))
    assert len(clusters) == 8 and all(c.support == 1 for c in clusters)


def test_the_representative_is_the_most_insightful_member_and_support_counts_podcasts_not_episodes():
    clusters = clusters_of(
        episode("a1", "Money Matters", INSIGHTS["index_funds"]),
        episode("a2", "Money Matters", INSIGHTS["index_funds_paraphrase"]),
    )
    [cluster] = clusters
    assert cluster.support == 1 and len(cluster.members) == 2
    assert cluster.representative.score == max(m.score for m in cluster.members)


GARBLED_PAIRS = [
    (
        "Old pipes leak about a quarter of treated water into the ground before it ever reaches a tap, so fixing "
        "leaks beats building new reservoirs.",
        "Mayors love cutting ribbons on new dams, and council members fight over them every single year. "
        "Meanwhile roughly one quarter of the treated water leeks out of old pipes into the ground.",
    ),
    (
        "Mosquito nets treated with insecticide cut child deaths from malaria by about a fifth, because children "
        "sleep under them during the hours mosquitoes bite.",
        "Aid groups argue endlessly about which health programs deserve money, and donors change their minds "
        "every year. Bed nets soaked in insect aside reduce malaria deaths among kids by roughly twenty percent.",
    ),
]


def whole_passage(episode_id: str, podcast: str, text: str) -> Candidate:
    """A two-sentence passage taken whole, as a window the candidate step kept."""
    return Candidate(episode_id, episode_id, podcast, f"https://{episode_id}.example.org/feed", "t", None, None,
                     0, 1, 0, 1, 0.0, 9.0, text, text, insight_score(text)[0])


def test_paraphrases_garbled_by_speech_recognition_merge_on_their_best_sentence_and_key_words():
    embedder = Embedder()
    for one, other in GARBLED_PAIRS:
        kept = [whole_passage("k1", "Kitchen Money", one), whole_passage("c1", "City Talk", other)]
        vectors, sentence_vectors = embed_passages([c.text for c in kept], embedder.embed)
        assert float(vectors[0] @ vectors[1]) < 0.55
        clusters = cluster_candidates(kept, vectors, sentence_vectors=sentence_vectors)
        assert [c.support for c in clusters] == [2], one


def test_distinct_ideas_on_one_topic_stay_apart_with_sentence_matching_and_key_words():
    texts = [INSIGHTS[topic] for topic in DISTINCT_SAME_TOPIC] + list(DISTINCT_SAME_TOPIC.values())
    shows = [episode(f"e{i}", f"Show {i}", t) for i, t in enumerate(texts)]
    kept = extract_candidates(shows).kept
    embedder = Embedder()
    vectors, sentence_vectors = embed_passages([c.text for c in kept], embedder.embed)
    clusters = cluster_candidates(kept, vectors, sentence_vectors=sentence_vectors)
    assert len(clusters) == 8 and all(c.support == 1 for c in clusters)


def test_the_representative_is_the_cleanest_wording_of_an_idea():
    clean = "Battery pack prices fell by about ninety percent in a decade, which is why electric cars now cost as much as petrol cars."
    garbled = "Battery pack prizes fell by about ninety percent in a decayed, which is wyatt electric cars now costas much as petrol cars."
    publisher = episode("p1", "Grid Talk", clean)
    whisper = episode("w1", "Car Show", garbled)
    whisper.segments = [replace(s, avg_logprob=-0.45) for s in whisper.segments]
    kept = extract_candidates([whisper, publisher]).kept
    assert "asr_logprob" in kept[0].features and "asr_logprob" not in kept[1].features
    [cluster] = cluster_candidates(kept, Embedder().embed([c.text for c in kept]))
    assert cluster.representative.text == clean
