{#- Candidate grain: each extracted insight with its cluster membership that day (NULL cluster when unclustered). -#}
with candidates as (
    select * from {{ source('podigest', 'insight_candidates') }}
),

clusters as (
    select * from {{ source('podigest', 'insight_clusters') }}
)

select
    c.candidate_id,
    c.partition_date,
    c.episode_id,
    c.seq_start,
    c.seq_end,
    c.start_s,
    c.end_s,
    c.text,
    c.raw_text,
    c.score,
    k.cluster_id,
    coalesce(k.is_representative, false) as is_representative,
    k.support as cluster_support,
    k.cluster_id is not null as is_clustered
from candidates as c
left join clusters as k
    on k.partition_date = c.partition_date
    and k.candidate_id = c.candidate_id
