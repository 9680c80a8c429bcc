import numpy as np

from podigest_dagster.core.candidates import extract_candidates
from podigest_dagster.core.clustering import cluster_candidates
from podigest_dagster.core.embedding import Embedder
from podigest_dagster_tests.core.insight_day import INSIGHTS, episode

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
