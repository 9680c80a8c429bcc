{#- Models land in the schema they configure (staging, marts), not "<target>_<schema>", so analysts type marts.dim_podcasts. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
