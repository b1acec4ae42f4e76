//! The Marketplace's lists: Helm charts and operators, edge apps, AI solutions, compute offers.

use super::super::specs::*;

pub(super) fn packages() -> Spec {
    Spec {
        columns: const {
            &[
                text("NAME", "coalesce(p.name, '')"),
                text("VERSION", "coalesce(p.version, '')"),
                text("REPOSITORY", "coalesce(p.repository_name, '')"),
                text("CATEGORY", "coalesce(c.name, '')"),
                text("DESCRIPTION", "coalesce(p.description, '')"),
            ]
        },
        from: "cloud.bitnami_packages p LEFT JOIN cloud.bitnami_categories c ON c.category_id = p.category",
        live: "",
        id: "p.package_id",
        id_type: "uuid",
        default_sort: 0,
        default_descending: false,
        search: 0,
        labels: None,
        fields: &[],
        facet: None,
        changed: None,
        base: None,
        counted: None,
        light: None,
    }
}

pub(super) fn apps() -> Spec {
    Spec {
        columns: const {
            &[
                text("NAME", "coalesce(a.name, '')"),
                text("VENDOR", "coalesce(a.vendor, '')"),
                text("VERSION", "coalesce(a.version, '')"),
                text("CATEGORY", "coalesce(a.category, '')"),
                text("DESCRIPTION", "coalesce(a.description, '')"),
            ]
        },
        from: "catalog.application_desc a",
        live: "",
        id: "a.app_id",
        id_type: "text",
        default_sort: 0,
        default_descending: false,
        search: 0,
        labels: None,
        fields: &[],
        facet: None,
        changed: None,
        base: None,
        counted: None,
        light: None,
    }
}

pub(super) fn solutions() -> Spec {
    Spec {
        columns: const {
            &[
                text("NAME", "s.name"),
                text("TYPE", "s.type::text"),
                text("VERSION", "s.version"),
                text("STATUS", "coalesce(s.status::text, '')"),
                col("USES", "coalesce(s.usage_count, 0)::text", "coalesce(s.usage_count, 0)", "integer"),
                text("DESCRIPTION", "coalesce(s.description, '')"),
            ]
        },
        from: "ergon.solutions s",
        live: "",
        id: "s.id",
        id_type: "uuid",
        default_sort: 0,
        default_descending: false,
        search: 0,
        labels: None,
        fields: &[],
        facet: None,
        changed: None,
        base: None,
        counted: None,
        light: None,
    }
}

pub(super) fn instances() -> Spec {
    Spec {
        columns: const {
            &[
                text("NAME", "coalesce(i.name, '')"),
                text("PROVIDER", "coalesce(i.provider, '')"),
                text("TYPE", "coalesce(i.instance_type, '')"),
                // The source's share of a shared core (0.25), not the seed column's integer.
                col(
                    "VCPU",
                    "coalesce(CASE WHEN jsonb_typeof(i.raw_data->'cpu_cores') = 'number' \
                     THEN (i.raw_data->>'cpu_cores')::numeric::text END, i.cpu_cores::text, '')",
                    "coalesce(CASE WHEN jsonb_typeof(i.raw_data->'cpu_cores') = 'number' \
                     THEN (i.raw_data->>'cpu_cores')::numeric END, i.cpu_cores, -1)",
                    "numeric",
                ),
                col("MEMORY GB", "coalesce(i.memory_gb::text, '')", "coalesce(i.memory_gb, -1)", "numeric"),
                col("GPU", "coalesce(i.gpu_count::text, '')", "coalesce(i.gpu_count, -1)", "integer"),
                col(
                    "PRICE/HOUR",
                    "coalesce(i.price_hourly::text || ' ' || coalesce(i.price_currency, ''), '')",
                    "coalesce(i.price_hourly, -1)",
                    "numeric",
                ),
            ]
        },
        from: "cloud.instances i",
        live: "",
        id: "i.id",
        id_type: "uuid",
        default_sort: 0,
        default_descending: false,
        search: 0,
        labels: None,
        fields: &[],
        facet: None,
        changed: None,
        base: None,
        counted: None,
        light: None,
    }
}
