select
    feed_url,
    coalesce(nullif(trim(name), ''), nullif(trim(title), ''), feed_url) as podcast,
    title as feed_title,
    last_status,
    last_http_status,
    last_error,
    last_polled_at,
    added_at
from {{ source('podigest', 'feeds') }}
