{#- One row per day's top insight, linked to earlier days' top insights that say the same thing
    (same normalised text, or embeddings with cosine similarity >= var trend_similarity). -#}
with top as (
    select * from {{ ref('stg_top_insights') }}
),

cluster_stats as (
    select
        i.partition_date,
        i.cluster_id,
        count(*) as cluster_candidates,
        count(distinct e.feed_url) as cluster_podcasts
    from {{ ref('stg_insights') }} as i
    inner join {{ ref('stg_episodes') }} as e on e.episode_id = i.episode_id
    where i.is_clustered
    group by i.partition_date, i.cluster_id
),

matches as (
    select
        cur.partition_date,
        cur.rank,
        prev.partition_date as earlier_date,
        max(prev.support) as earlier_support
    from top as cur
    inner join top as prev
        on prev.partition_date < cur.partition_date
        and (
            prev.normalized_insight = cur.normalized_insight
            -- cast: a DuckLake stores the embedding as a list (FLOAT[]), the DuckDB file as FLOAT[384]
            or array_cosine_similarity(prev.embedding::FLOAT[384], cur.embedding::FLOAT[384]) >= {{ var('trend_similarity') }}
        )
    group by cur.partition_date, cur.rank, prev.partition_date
),

history as (
    select
        partition_date,
        rank,
        count(*) as earlier_days,
        min(earlier_date) as first_date,
        max(earlier_date) as previous_date,
        sum(earlier_support) as earlier_support
    from matches
    group by partition_date, rank
)

select
    strftime(t.partition_date, '%Y-%m-%d') || '#' || cast(t.rank as varchar) as trend_id,
    t.partition_date,
    t.rank,
    t.cluster_id,
    t.candidate_id,
    t.insight,
    t.support,
    t.score,
    coalesce(c.cluster_candidates, 0) as cluster_candidates,
    coalesce(c.cluster_podcasts, 0) as cluster_podcasts,
    coalesce(h.first_date, t.partition_date) as first_seen_date,
    h.previous_date as previous_seen_date,
    1 + coalesce(h.earlier_days, 0) as days_seen,
    t.support + coalesce(h.earlier_support, 0) as cumulative_support,
    coalesce(h.earlier_days, 0) > 0 as is_recurring
from top as t
left join cluster_stats as c on c.partition_date = t.partition_date and c.cluster_id = t.cluster_id
left join history as h on h.partition_date = t.partition_date and h.rank = t.rank
