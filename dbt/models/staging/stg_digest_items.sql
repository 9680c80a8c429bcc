{#- Digest item grain: each item with the top insight it came from (same day and rank). -#}
with items as (
    select * from {{ source('podigest', 'digest_items') }}
),

top as (
    select * from {{ ref('stg_top_insights') }}
)

select
    strftime(i.partition_date, '%Y-%m-%d') || '#' || cast(i.rank as varchar) as digest_item_id,
    i.partition_date,
    i.rank,
    i.insight,
    i.support,
    i.sources,
    coalesce(json_array_length(i.sources), 0) as source_count,
    t.sources as top_insight_sources,
    t.cluster_id,
    t.candidate_id,
    t.score,
    t.extractive_text,
    t.rewrite_status
from items as i
left join top as t
    on t.partition_date = i.partition_date
    and t.rank = i.rank
