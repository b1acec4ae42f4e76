//! Writing imported data: each import is one transaction, and re-imports update in place.

use sqlx::PgConnection;

use crate::db::handle::Db;

use super::Result;
use crate::domain::cloud::region_location;
use crate::domain::marketplace::Package;
use crate::import::instances::Instance;
use crate::import::margo::AppDescription;

/// What an import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub inserted: u64,
    pub updated: u64,
}

impl Counts {
    fn add(&mut self, inserted: bool) {
        if inserted {
            self.inserted += 1;
        } else {
            self.updated += 1;
        }
    }
}

/// Upsert packages by (repository_name, name) and refresh the category and capability totals.
/// `progress` is called after each package.
pub async fn upsert_packages(pool: &Db, packages: &[Package], progress: impl FnMut()) -> Result<Counts> {
    let mut tx = pool.begin().await?;
    // An import is one bulk transaction: never under the interactive statement timeout.
    sqlx::query("SET LOCAL statement_timeout = 0").execute(&mut *tx).await?;
    let counts = upsert_packages_on(&mut tx, packages, progress).await?;
    tx.commit().await?;
    Ok(counts)
}

/// [`upsert_packages`] inside the caller's transaction.
pub async fn upsert_packages_on(
    tx: &mut PgConnection,
    packages: &[Package],
    mut progress: impl FnMut(),
) -> Result<Counts> {
    let mut counts = Counts::default();
    for p in packages {
        let inserted: bool = sqlx::query_scalar(
            "INSERT INTO cloud.bitnami_packages AS t (name, normalized_name, category, is_operator, capabilities, \
                 description, home_url, readme, version, app_version, digest, deprecated, contains_security_updates, \
                 prerelease, signed, content_url, license, internal_logo_url, ts, keywords, links, available_versions, \
                 dependencies, container_images, repository_name, repository_display_name, repository_url, \
                 repository_kind, repository_official, repository_verified_publisher, official, cncf, readme_cut) \
             VALUES ($1, lower($1), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
                 $19, $20, $21, $22, $23, $24, $24, $25, 0, false, false, false, false, $26) \
             ON CONFLICT (repository_name, name) DO UPDATE SET \
                 normalized_name = EXCLUDED.normalized_name, category = EXCLUDED.category, \
                 is_operator = EXCLUDED.is_operator, capabilities = EXCLUDED.capabilities, \
                 description = EXCLUDED.description, home_url = EXCLUDED.home_url, \
                 readme = coalesce(EXCLUDED.readme, t.readme), \
                 readme_cut = CASE WHEN EXCLUDED.readme IS NULL THEN t.readme_cut ELSE EXCLUDED.readme_cut END, \
                 version = EXCLUDED.version, \
                 app_version = EXCLUDED.app_version, digest = EXCLUDED.digest, deprecated = EXCLUDED.deprecated, \
                 contains_security_updates = EXCLUDED.contains_security_updates, prerelease = EXCLUDED.prerelease, \
                 signed = EXCLUDED.signed, content_url = EXCLUDED.content_url, license = EXCLUDED.license, \
                 internal_logo_url = EXCLUDED.internal_logo_url, ts = EXCLUDED.ts, keywords = EXCLUDED.keywords, \
                 links = EXCLUDED.links, available_versions = EXCLUDED.available_versions, \
                 dependencies = EXCLUDED.dependencies, container_images = EXCLUDED.container_images, \
                 repository_url = coalesce(EXCLUDED.repository_url, t.repository_url) \
             RETURNING (xmax = 0)",
        )
        .bind(&p.name)
        .bind(p.category)
        .bind(p.is_operator)
        .bind(&p.capabilities)
        .bind(&p.description)
        .bind(&p.home_url)
        .bind(&p.readme)
        .bind(&p.version)
        .bind(&p.app_version)
        .bind(&p.digest)
        .bind(p.deprecated)
        .bind(p.contains_security_updates)
        .bind(p.prerelease)
        .bind(p.signed)
        .bind(&p.content_url)
        .bind(&p.license)
        .bind(&p.logo_url)
        .bind(p.ts)
        .bind(&p.keywords)
        .bind(&p.links)
        .bind(&p.available_versions)
        .bind(&p.dependencies)
        .bind(&p.container_images)
        .bind(&p.repository_name)
        .bind(&p.repository_url)
        .bind(p.readme_cut)
        .fetch_one(&mut *tx)
        .await?;
        counts.add(inserted);
        progress();
    }
    refresh_package_totals(&mut *tx).await?;
    Ok(counts)
}

/// bitnami_categories.total and bitnami_operator_capabilities.total from the packages.
pub async fn refresh_package_totals(conn: &mut PgConnection) -> Result<()> {
    sqlx::query(
        "UPDATE cloud.bitnami_categories c SET total = \
             (SELECT count(*) FROM cloud.bitnami_packages p WHERE p.category = c.category_id)",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE cloud.bitnami_operator_capabilities c SET total = \
             (SELECT count(*) FROM cloud.bitnami_packages p WHERE p.capabilities = c.capability_id)",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What an instance import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InstanceCounts {
    pub instances: Counts,
    pub providers: u64,
    pub regions: u64,
}

/// Upsert instances by (provider, name), and the providers and regions they name.
pub async fn upsert_instances(pool: &Db, rows: &[Instance], progress: impl FnMut(u64)) -> Result<InstanceCounts> {
    let mut tx = pool.begin().await?;
    // An import is one bulk transaction: never under the interactive statement timeout.
    sqlx::query("SET LOCAL statement_timeout = 0").execute(&mut *tx).await?;
    let out = upsert_instances_on(&mut tx, rows, progress).await?;
    tx.commit().await?;
    Ok(out)
}

/// [`upsert_instances`] inside the caller's transaction.
pub async fn upsert_instances_on(
    tx: &mut PgConnection,
    rows: &[Instance],
    mut progress: impl FnMut(u64),
) -> Result<InstanceCounts> {
    let mut out = InstanceCounts::default();

    let mut providers: Vec<&str> = rows.iter().map(|r| r.provider.as_str()).collect();
    providers.sort_unstable();
    providers.dedup();
    out.providers = sqlx::query(
        "INSERT INTO cloud.providers (provider) SELECT unnest($1::text[]) ON CONFLICT (provider) DO NOTHING",
    )
    .bind(&providers)
    .execute(&mut *tx)
    .await?
    .rows_affected();

    let mut regions: Vec<(&str, &str)> =
        rows.iter().flat_map(|r| r.regions.iter().map(|g| (r.provider.as_str(), g.as_str()))).collect();
    regions.sort_unstable();
    regions.dedup();
    let place = |p: &str, r: &str, i: usize| region_location(p, r).map(|l| [l.0, l.1, l.2][i].to_string());
    let (rp, rid): (Vec<&str>, Vec<&str>) = regions.iter().copied().unzip();
    let continent: Vec<Option<String>> = regions.iter().map(|(p, r)| place(p, r, 0)).collect();
    let country: Vec<Option<String>> = regions.iter().map(|(p, r)| place(p, r, 1)).collect();
    let city: Vec<Option<String>> = regions.iter().map(|(p, r)| place(p, r, 2)).collect();
    out.regions = sqlx::query(
        "INSERT INTO cloud.regions (provider, region_id, continent, country, city, status) \
         SELECT p, r, co, cn, ci, 'available' FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) \
             AS u(p, r, co, cn, ci) \
         ON CONFLICT (provider, region_id) DO UPDATE SET continent = coalesce(EXCLUDED.continent, cloud.regions.continent), \
             country = coalesce(EXCLUDED.country, cloud.regions.country), city = coalesce(EXCLUDED.city, cloud.regions.city)",
    )
    .bind(&rp)
    .bind(&rid)
    .bind(&continent)
    .bind(&country)
    .bind(&city)
    .execute(&mut *tx)
    .await?
    .rows_affected();

    for chunk in rows.chunks(500) {
        let col = |f: fn(&Instance) -> Option<String>| chunk.iter().map(f).collect::<Vec<_>>();
        let int = |f: fn(&Instance) -> Option<i32>| chunk.iter().map(f).collect::<Vec<_>>();
        let float = |f: fn(&Instance) -> Option<f64>| chunk.iter().map(f).collect::<Vec<_>>();
        let json = |f: fn(&Instance) -> serde_json::Value| chunk.iter().map(f).collect::<Vec<_>>();
        let inserted: Vec<bool> = sqlx::query_scalar(
            "INSERT INTO cloud.instances AS t (provider, name, instance_id, instance_type, cpu_cores, cpu_threads, \
                 cpu_manufacturer, memory_gb, memory_mb, disk_gb, disk_type, bandwidth_mbps, price_hourly, price_monthly, \
                 price_currency, gpu_count, gpu_model, gpu_memory_gb, gpu_manufacturer, regions, available, \
                 capabilities, description, os_type, data_source_timestamp, raw_data) \
             SELECT provider, name, name, instance_type, cpu_cores, cpu_cores, cpu_manufacturer, memory_gb::numeric, \
                 memory_mb, disk_gb, disk_type, bandwidth_mbps, price_hourly::numeric, price_monthly::numeric, 'USD', \
                 gpu_count, gpu_model, gpu_memory_gb, gpu_manufacturer, regions, price_hourly IS NOT NULL, \
                 capabilities, description, 'linux', data_source_date::timestamp, raw_data \
             FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::float8[], $7::int[], $8::int[], \
                 $9::text[], $10::int[], $11::float8[], $12::float8[], $13::int[], $14::text[], $15::int[], $16::text[], \
                 $17::jsonb[], $18::jsonb[], $19::text[], $20::date[], $21::jsonb[]) \
                 AS u(provider, name, instance_type, cpu_cores, cpu_manufacturer, memory_gb, memory_mb, disk_gb, \
                 disk_type, bandwidth_mbps, price_hourly, price_monthly, gpu_count, gpu_model, gpu_memory_gb, \
                 gpu_manufacturer, regions, capabilities, description, data_source_date, raw_data) \
             ON CONFLICT (provider, name) DO UPDATE SET instance_type = EXCLUDED.instance_type, \
                 cpu_cores = EXCLUDED.cpu_cores, cpu_threads = EXCLUDED.cpu_threads, \
                 cpu_manufacturer = EXCLUDED.cpu_manufacturer, memory_gb = EXCLUDED.memory_gb, \
                 memory_mb = EXCLUDED.memory_mb, disk_gb = EXCLUDED.disk_gb, disk_type = EXCLUDED.disk_type, \
                 bandwidth_mbps = EXCLUDED.bandwidth_mbps, price_hourly = EXCLUDED.price_hourly, \
                 price_monthly = EXCLUDED.price_monthly, gpu_count = EXCLUDED.gpu_count, \
                 gpu_model = EXCLUDED.gpu_model, gpu_memory_gb = EXCLUDED.gpu_memory_gb, \
                 gpu_manufacturer = EXCLUDED.gpu_manufacturer, regions = EXCLUDED.regions, \
                 available = EXCLUDED.available, capabilities = EXCLUDED.capabilities, \
                 description = EXCLUDED.description, data_source_timestamp = EXCLUDED.data_source_timestamp, \
                 raw_data = EXCLUDED.raw_data \
             RETURNING (xmax = 0)",
        )
        .bind(col(|r| Some(r.provider.clone())))
        .bind(col(|r| Some(r.name.clone())))
        .bind(col(|r| r.instance_type.clone()))
        .bind(int(|r| r.cpu_cores))
        .bind(col(|r| r.cpu_manufacturer.clone()))
        .bind(float(|r| r.memory_gb))
        .bind(int(|r| r.memory_mb))
        .bind(int(|r| r.disk_gb))
        .bind(col(|r| r.disk_type.clone()))
        .bind(int(|r| r.bandwidth_mbps))
        .bind(float(|r| r.price_hourly))
        .bind(float(|r| r.price_monthly))
        .bind(int(|r| Some(r.gpu_count)))
        .bind(col(|r| r.gpu_model.clone()))
        .bind(int(|r| r.gpu_memory_gb))
        .bind(col(|r| r.gpu_manufacturer.clone()))
        .bind(json(|r| serde_json::json!(r.regions)))
        .bind(json(|r| r.capabilities.clone()))
        .bind(col(|r| Some(r.description.clone())))
        .bind(chunk.iter().map(|r| r.data_source_date).collect::<Vec<_>>())
        .bind(json(|r| r.raw_data.clone()))
        .fetch_all(&mut *tx)
        .await?;
        for i in inserted {
            out.instances.add(i);
        }
        progress(chunk.len() as u64);
    }
    Ok(out)
}

/// Store one Margo description in its own transaction: the description is upserted by app_id and
/// its profiles (with their components) replaced. Returns whether the description is new.
pub async fn upsert_app_description(pool: &Db, app: &AppDescription) -> Result<bool> {
    let mut tx = pool.begin().await?;
    // An import is one bulk transaction: never under the interactive statement timeout.
    sqlx::query("SET LOCAL statement_timeout = 0").execute(&mut *tx).await?;
    let inserted = upsert_app_description_on(&mut tx, app).await?;
    tx.commit().await?;
    Ok(inserted)
}

/// [`upsert_app_description`] inside the caller's transaction.
pub async fn upsert_app_description_on(tx: &mut PgConnection, app: &AppDescription) -> Result<bool> {
    let inserted: bool = sqlx::query_scalar(
        "INSERT INTO catalog.application_desc AS t (app_id, name, vendor, version, description, icon, site, tag_line, \
             tags, published) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')) \
         ON CONFLICT (app_id) DO UPDATE SET name = EXCLUDED.name, vendor = EXCLUDED.vendor, \
             version = EXCLUDED.version, description = EXCLUDED.description, icon = EXCLUDED.icon, \
             site = EXCLUDED.site, tag_line = EXCLUDED.tag_line, tags = EXCLUDED.tags \
         RETURNING (xmax = 0)",
    )
    .bind(&app.app_id)
    .bind(&app.name)
    .bind(&app.vendor)
    .bind(&app.version)
    .bind(&app.description)
    .bind(&app.icon)
    .bind(&app.site)
    .bind(&app.tag_line)
    .bind(&app.tags)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM catalog.deployment_profile WHERE app_id = $1").bind(&app.app_id).execute(&mut *tx).await?;
    for p in &app.profiles {
        sqlx::query(
            "INSERT INTO catalog.deployment_profile (id, type, description, cpu_cores, memory, storage, \
                 cpu_architectures, peripherals, interfaces, app_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&p.id)
        .bind(&p.profile_type)
        .bind(&p.description)
        .bind(p.cpu_cores)
        .bind(&p.memory)
        .bind(&p.storage)
        .bind(&p.cpu_architectures)
        .bind(&p.peripherals)
        .bind(&p.interfaces)
        .bind(&app.app_id)
        .execute(&mut *tx)
        .await?;
        for c in &p.components {
            sqlx::query("INSERT INTO catalog.component (deployment_profile_id, name, properties) VALUES ($1, $2, $3)")
                .bind(&p.id)
                .bind(&c.name)
                .bind(&c.properties)
                .execute(&mut *tx)
                .await?;
        }
    }
    Ok(inserted)
}
