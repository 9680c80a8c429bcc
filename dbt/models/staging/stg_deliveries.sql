select
    partition_date,
    channel,
    recipient,
    status,
    error,
    attempts,
    updated_at
from {{ source('podigest', 'deliveries') }}
