{#- The partition window [min_date, max_date) from --vars, as a SQL predicate on a date column. -#}
{% macro in_partition_window(column) -%}
    ({{ column }} >= cast('{{ var("min_date") }}' as date) and {{ column }} < cast('{{ var("max_date") }}' as date))
{%- endmacro %}

{#- Pre-hook for incremental marts: clear the whole window first, so a day whose rows vanished upstream is emptied too. -#}
{% macro delete_partition_window(column='partition_date') -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ in_partition_window(column) }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
