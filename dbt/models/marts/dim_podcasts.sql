{#- One row per podcast (feed), with its whole-history activity. -#}
with episodes as (
    select * from {{ ref('stg_episodes') }}
),

feeds as (
    select * from {{ ref('stg_feeds') }}
),

podcasts as (
    select feed_url from feeds
    union
    select feed_url from episodes
),

episode_stats as (
    select
        feed_url,
        any_value(podcast) as podcast,
        count(*) as episodes,
        count(*) filter (where is_transcribed) as transcribed_episodes,
        coalesce(sum(transcribed_duration_s), 0) / 3600.0 as audio_hours_transcribed,
        min(published_at) as first_published_at,
        max(published_at) as last_published_at
    from episodes
    group by feed_url
),

insight_stats as (
    select
        e.feed_url,
        count(*) as insight_candidates,
        avg(i.score) as avg_insight_score
    from {{ ref('stg_insights') }} as i
    inner join episodes as e on e.episode_id = i.episode_id
    group by e.feed_url
),

digest_stats as (
    select
        feed_url,
        count(distinct digest_item_id) as insights_in_digest,
        max(partition_date) as last_digest_date
    from {{ ref('fct_daily_digest') }}
    where feed_url is not null
    group by feed_url
)

select
    p.feed_url,
    coalesce(f.podcast, s.podcast, p.feed_url) as podcast,
    f.feed_title,
    f.last_status as feed_status,
    f.last_polled_at,
    coalesce(s.episodes, 0) as episodes,
    coalesce(s.transcribed_episodes, 0) as transcribed_episodes,
    coalesce(s.audio_hours_transcribed, 0) as audio_hours_transcribed,
    coalesce(i.insight_candidates, 0) as insight_candidates,
    i.avg_insight_score,
    coalesce(d.insights_in_digest, 0) as insights_in_digest,
    s.first_published_at,
    s.last_published_at,
    d.last_digest_date
from podcasts as p
left join feeds as f on f.feed_url = p.feed_url
left join episode_stats as s on s.feed_url = p.feed_url
left join insight_stats as i on i.feed_url = p.feed_url
left join digest_stats as d on d.feed_url = p.feed_url
