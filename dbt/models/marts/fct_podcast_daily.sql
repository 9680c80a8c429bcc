{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='partition_date',
        on_schema_change='sync_all_columns',
        pre_hook="{{ delete_partition_window('partition_date') }}"
    )
}}

{#- One row per podcast and UTC publication day with any episode, candidate or digest item. -#}
with episodes as (
    select * from {{ ref('stg_episodes') }}
),

episode_days as (
    select
        feed_url,
        partition_date,
        count(*) as episodes,
        count(*) filter (where is_transcribed) as transcribed_episodes,
        coalesce(sum(declared_duration_s), 0) / 60.0 as declared_minutes,
        coalesce(sum(transcribed_duration_s), 0) / 60.0 as transcribed_minutes
    from episodes
    where partition_date is not null and {{ in_partition_window('partition_date') }}
    group by feed_url, partition_date
),

candidate_days as (
    select
        e.feed_url,
        i.partition_date,
        count(*) as insight_candidates,
        count(*) filter (where i.is_clustered) as clustered_candidates
    from {{ ref('stg_insights') }} as i
    inner join episodes as e on e.episode_id = i.episode_id
    where {{ in_partition_window('i.partition_date') }}
    group by e.feed_url, i.partition_date
),

digest_days as (
    select feed_url, partition_date, count(distinct digest_item_id) as insights_in_digest
    from {{ ref('fct_daily_digest') }}
    where feed_url is not null and {{ in_partition_window('partition_date') }}
    group by feed_url, partition_date
),

podcast_days as (
    select feed_url, partition_date from episode_days
    union
    select feed_url, partition_date from candidate_days
    union
    select feed_url, partition_date from digest_days
),

names as (
    select feed_url, podcast from {{ ref('stg_feeds') }}
    union all
    select feed_url, any_value(podcast) from episodes
    where feed_url not in (select feed_url from {{ ref('stg_feeds') }})
    group by feed_url
)

select
    k.feed_url || '|' || strftime(k.partition_date, '%Y-%m-%d') as podcast_day_id,
    k.feed_url,
    n.podcast,
    k.partition_date,
    coalesce(e.episodes, 0) as episodes,
    coalesce(e.transcribed_episodes, 0) as transcribed_episodes,
    coalesce(e.declared_minutes, 0) as declared_minutes,
    coalesce(e.transcribed_minutes, 0) as transcribed_minutes,
    coalesce(c.insight_candidates, 0) as insight_candidates,
    coalesce(c.clustered_candidates, 0) as clustered_candidates,
    coalesce(d.insights_in_digest, 0) as insights_in_digest
from podcast_days as k
left join names as n on n.feed_url = k.feed_url
left join episode_days as e on e.feed_url = k.feed_url and e.partition_date = k.partition_date
left join candidate_days as c on c.feed_url = k.feed_url and c.partition_date = k.partition_date
left join digest_days as d on d.feed_url = k.feed_url and d.partition_date = k.partition_date
