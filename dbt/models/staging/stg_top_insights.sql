select
    partition_date,
    rank,
    cluster_id,
    candidate_id,
    insight,
    extractive_text,
    support,
    score,
    sources,
    rewrite_status,
    embedding,
    lower(regexp_replace(trim(insight), '\s+', ' ', 'g')) as normalized_insight
from {{ source('podigest', 'top_insights') }}
