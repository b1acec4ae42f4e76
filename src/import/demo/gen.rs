//! Deterministic randomness for the demo: one ChaCha stream per seed, and the word lists that
//! make generated names read like a real fleet's.

use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

pub const FIRST: &[&str] = &[
    "Ada", "Amir", "Ana", "Bea", "Carlos", "Chen", "Dana", "Dmitri", "Elif", "Emeka", "Fatima", "Felix", "Grace",
    "Hana", "Ines", "Ivan", "Jonas", "Kai", "Lena", "Luca", "Maya", "Mateo", "Nadia", "Noah", "Omar", "Priya", "Quinn",
    "Rosa", "Sami", "Sofia", "Tariq", "Uma", "Viktor", "Wen", "Yara", "Zoe",
];
pub const LAST: &[&str] = &[
    "Abe", "Banda", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ibrahim", "Jensen", "Kowalski", "Li",
    "Moreau", "Nakamura", "Okafor", "Petrov", "Quispe", "Rossi", "Singh", "Tanaka", "Usman", "Varga", "Wang", "Xu",
    "Yilmaz", "Zhou",
];
pub const COMPANIES: &[&str] = &[
    "acme",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "vandelay",
    "stark",
    "wayne",
    "tyrell",
    "cyberdyne",
    "soylent",
    "wonka",
    "aperture",
    "oscorp",
    "massive",
    "nakatomi",
    "monarch",
    "gringotts",
    "kraken",
    "polaris",
];
pub const REGIONS: &[&str] = &["eu-west", "eu-central", "us-east", "us-west", "ap-south", "ap-northeast", "sa-east"];
pub const CITIES: &[&str] = &[
    "Dublin",
    "Frankfurt",
    "Paris",
    "Madrid",
    "Warsaw",
    "Stockholm",
    "Ashburn",
    "Columbus",
    "Portland",
    "Dallas",
    "Mumbai",
    "Singapore",
    "Tokyo",
    "Seoul",
    "São Paulo",
    "Toronto",
    "Sydney",
    "Milan",
    "Zurich",
    "Oslo",
];
pub const SITE_KINDS: &[&str] = &["plant", "store", "depot", "clinic", "tower", "port", "farm", "lab"];
pub const ENVS: &[&str] = &["prod", "staging", "dev"];
pub const TEAMS: &[&str] = &[
    "payments",
    "search",
    "identity",
    "edge",
    "data",
    "ml",
    "platform",
    "observability",
    "checkout",
    "logistics",
    "messaging",
    "media",
    "risk",
    "growth",
    "infra",
    "security",
];
pub const APPS: &[&str] = &[
    "api",
    "web",
    "worker",
    "gateway",
    "cache",
    "queue",
    "ingest",
    "scheduler",
    "billing",
    "auth",
    "catalog",
    "cart",
    "inventory",
    "notifier",
    "reports",
    "search",
    "recommender",
    "metrics",
    "vision",
    "telemetry",
];
pub const TECH_PREFIX: &[&str] = &[
    "kube", "cloud", "edge", "open", "fast", "tiny", "hyper", "stream", "flux", "nova", "zen", "iron", "quantum",
    "lumen", "terra", "vector", "atlas", "orbit", "pulse", "nimbus",
];
pub const TECH_NOUN: &[&str] = &[
    "proxy",
    "cache",
    "exporter",
    "operator",
    "gateway",
    "collector",
    "db",
    "queue",
    "scheduler",
    "dashboard",
    "mesh",
    "vault",
    "registry",
    "agent",
    "controller",
    "router",
    "broker",
    "indexer",
    "tracer",
    "backup",
];

pub struct Gen {
    rng: ChaCha8Rng,
    pub now: DateTime<Utc>,
}

impl Gen {
    pub fn new(seed: u64, now: DateTime<Utc>) -> Gen {
        Gen { rng: ChaCha8Rng::seed_from_u64(seed), now }
    }

    pub fn uuid(&mut self) -> Uuid {
        uuid::Builder::from_random_bytes(self.rng.random()).into_uuid()
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.random_range(0..items.len())]
    }

    /// One of a list of words.
    pub fn word(&mut self, items: &[&'static str]) -> &'static str {
        items[self.index(items.len())]
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    pub fn int(&mut self, range: std::ops::Range<i64>) -> i64 {
        self.rng.random_range(range)
    }

    pub fn float(&mut self, range: std::ops::Range<f64>) -> f64 {
        self.rng.random_range(range)
    }

    pub fn index(&mut self, len: usize) -> usize {
        self.rng.random_range(0..len)
    }

    /// A time `secs` seconds (a random amount in the range) before now.
    pub fn ago(&mut self, secs: std::ops::Range<i64>) -> DateTime<Utc> {
        self.now - Duration::seconds(self.rng.random_range(secs))
    }

    /// Pick an index by weights.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut x = self.rng.random_range(0..total.max(1));
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }

    pub fn hex(&mut self, bytes: usize) -> String {
        (0..bytes).map(|_| format!("{:02x}", self.rng.random::<u8>())).collect()
    }
}
