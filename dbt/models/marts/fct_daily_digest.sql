{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='partition_date',
        on_schema_change='sync_all_columns',
        pre_hook="{{ delete_partition_window('partition_date') }}"
    )
}}

{#- One row per digest item and source (sources unnested from the item's JSON list); an item without sources keeps one row. -#}
with items as (
    select * from {{ ref('stg_digest_items') }}
    where {{ in_partition_window('partition_date') }}
),

source_positions as (
    select digest_item_id, unnest(range(cast(source_count as bigint))) as source_index
    from items
),

sources as (
    select
        p.digest_item_id,
        p.source_index,
        json_extract(i.sources, p.source_index) as src,
        json_extract(i.top_insight_sources, p.source_index) as top_src
    from source_positions as p
    inner join items as i on i.digest_item_id = p.digest_item_id
),

episodes as (
    select episode_id, feed_url from {{ ref('stg_episodes') }}
),

deliveries as (
    select partition_date, count(*) filter (where status = 'sent') as delivered_recipients
    from {{ ref('stg_deliveries') }}
    where {{ in_partition_window('partition_date') }}
    group by partition_date
),

unnested as (
    select
        i.digest_item_id || '#' || coalesce(cast(s.source_index as varchar), '-') as digest_source_id,
        i.digest_item_id,
        i.partition_date,
        i.rank,
        i.insight,
        i.support,
        i.source_count,
        s.source_index,
        s.src ->> 'podcast' as podcast,
        s.src ->> 'episode' as episode_title,
        coalesce(s.src ->> 'episode_id', s.top_src ->> 'episode_id') as episode_id,
        s.src ->> 'url' as url,
        try_cast(s.src ->> 'start_s' as double) as start_s,
        try_cast(coalesce(s.src ->> 'end_s', s.top_src ->> 'end_s') as double) as end_s,
        i.cluster_id,
        i.candidate_id,
        i.score,
        i.rewrite_status
    from items as i
    left join sources as s on s.digest_item_id = i.digest_item_id
)

select
    u.*,
    e.feed_url,
    coalesce(d.delivered_recipients, 0) as delivered_recipients
from unnested as u
left join episodes as e on e.episode_id = u.episode_id
left join deliveries as d on d.partition_date = u.partition_date
