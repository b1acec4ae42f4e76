//! Where cloud regions are. Fills cloud.regions' continent, country and city for the regions the
//! big providers publish; regions not listed (local and wavelength zones, new regions) keep them
//! empty rather than guessed.

const NA: &str = "North America";
const SA: &str = "South America";
const EU: &str = "Europe";
const AS: &str = "Asia";
const OC: &str = "Oceania";
const AF: &str = "Africa";
const ME: &str = "Middle East";

/// (provider, region id, continent, country, city)
const REGIONS: &[(&str, &str, &str, &str, &str)] = &[
    ("aws", "us-east-1", NA, "United States", "Ashburn"),
    ("aws", "us-east-2", NA, "United States", "Columbus"),
    ("aws", "us-west-1", NA, "United States", "San Francisco"),
    ("aws", "us-west-2", NA, "United States", "Portland"),
    ("aws", "us-gov-east-1", NA, "United States", "Columbus"),
    ("aws", "us-gov-west-1", NA, "United States", "Portland"),
    ("aws", "ca-central-1", NA, "Canada", "Montreal"),
    ("aws", "ca-west-1", NA, "Canada", "Calgary"),
    ("aws", "sa-east-1", SA, "Brazil", "São Paulo"),
    ("aws", "eu-west-1", EU, "Ireland", "Dublin"),
    ("aws", "eu-west-2", EU, "United Kingdom", "London"),
    ("aws", "eu-west-3", EU, "France", "Paris"),
    ("aws", "eu-central-1", EU, "Germany", "Frankfurt"),
    ("aws", "eu-central-2", EU, "Switzerland", "Zurich"),
    ("aws", "eu-north-1", EU, "Sweden", "Stockholm"),
    ("aws", "eu-south-1", EU, "Italy", "Milan"),
    ("aws", "eu-south-2", EU, "Spain", "Aragón"),
    ("aws", "ap-east-1", AS, "Hong Kong", "Hong Kong"),
    ("aws", "ap-northeast-1", AS, "Japan", "Tokyo"),
    ("aws", "ap-northeast-2", AS, "South Korea", "Seoul"),
    ("aws", "ap-northeast-3", AS, "Japan", "Osaka"),
    ("aws", "ap-south-1", AS, "India", "Mumbai"),
    ("aws", "ap-south-2", AS, "India", "Hyderabad"),
    ("aws", "ap-southeast-1", AS, "Singapore", "Singapore"),
    ("aws", "ap-southeast-2", OC, "Australia", "Sydney"),
    ("aws", "ap-southeast-3", AS, "Indonesia", "Jakarta"),
    ("aws", "ap-southeast-4", OC, "Australia", "Melbourne"),
    ("aws", "af-south-1", AF, "South Africa", "Cape Town"),
    ("aws", "il-central-1", ME, "Israel", "Tel Aviv"),
    ("aws", "me-central-1", ME, "United Arab Emirates", "Dubai"),
    ("aws", "me-south-1", ME, "Bahrain", "Manama"),
    ("gcp", "us-central1", NA, "United States", "Council Bluffs"),
    ("gcp", "us-east1", NA, "United States", "Moncks Corner"),
    ("gcp", "us-east4", NA, "United States", "Ashburn"),
    ("gcp", "us-east5", NA, "United States", "Columbus"),
    ("gcp", "us-south1", NA, "United States", "Dallas"),
    ("gcp", "us-west1", NA, "United States", "The Dalles"),
    ("gcp", "us-west2", NA, "United States", "Los Angeles"),
    ("gcp", "us-west3", NA, "United States", "Salt Lake City"),
    ("gcp", "us-west4", NA, "United States", "Las Vegas"),
    ("gcp", "northamerica-northeast1", NA, "Canada", "Montreal"),
    ("gcp", "northamerica-northeast2", NA, "Canada", "Toronto"),
    ("gcp", "northamerica-south1", NA, "Mexico", "Querétaro"),
    ("gcp", "southamerica-east1", SA, "Brazil", "São Paulo"),
    ("gcp", "southamerica-west1", SA, "Chile", "Santiago"),
    ("gcp", "europe-central2", EU, "Poland", "Warsaw"),
    ("gcp", "europe-north1", EU, "Finland", "Hamina"),
    ("gcp", "europe-north2", EU, "Sweden", "Stockholm"),
    ("gcp", "europe-southwest1", EU, "Spain", "Madrid"),
    ("gcp", "europe-west1", EU, "Belgium", "St. Ghislain"),
    ("gcp", "europe-west2", EU, "United Kingdom", "London"),
    ("gcp", "europe-west3", EU, "Germany", "Frankfurt"),
    ("gcp", "europe-west4", EU, "Netherlands", "Eemshaven"),
    ("gcp", "europe-west6", EU, "Switzerland", "Zurich"),
    ("gcp", "europe-west8", EU, "Italy", "Milan"),
    ("gcp", "europe-west9", EU, "France", "Paris"),
    ("gcp", "europe-west10", EU, "Germany", "Berlin"),
    ("gcp", "europe-west12", EU, "Italy", "Turin"),
    ("gcp", "asia-east1", AS, "Taiwan", "Changhua County"),
    ("gcp", "asia-east2", AS, "Hong Kong", "Hong Kong"),
    ("gcp", "asia-northeast1", AS, "Japan", "Tokyo"),
    ("gcp", "asia-northeast2", AS, "Japan", "Osaka"),
    ("gcp", "asia-northeast3", AS, "South Korea", "Seoul"),
    ("gcp", "asia-south1", AS, "India", "Mumbai"),
    ("gcp", "asia-south2", AS, "India", "Delhi"),
    ("gcp", "asia-southeast1", AS, "Singapore", "Jurong West"),
    ("gcp", "asia-southeast2", AS, "Indonesia", "Jakarta"),
    ("gcp", "asia-southeast3", AS, "Thailand", "Bangkok"),
    ("gcp", "australia-southeast1", OC, "Australia", "Sydney"),
    ("gcp", "australia-southeast2", OC, "Australia", "Melbourne"),
    ("gcp", "africa-south1", AF, "South Africa", "Johannesburg"),
    ("gcp", "me-central1", ME, "Qatar", "Doha"),
    ("gcp", "me-central2", ME, "Saudi Arabia", "Dammam"),
    ("gcp", "me-west1", ME, "Israel", "Tel Aviv"),
    ("azure", "eastus", NA, "United States", "Virginia"),
    ("azure", "eastus2", NA, "United States", "Virginia"),
    ("azure", "centralus", NA, "United States", "Iowa"),
    ("azure", "northcentralus", NA, "United States", "Illinois"),
    ("azure", "southcentralus", NA, "United States", "Texas"),
    ("azure", "westcentralus", NA, "United States", "Wyoming"),
    ("azure", "westus", NA, "United States", "California"),
    ("azure", "westus2", NA, "United States", "Washington"),
    ("azure", "westus3", NA, "United States", "Phoenix"),
    ("azure", "canadacentral", NA, "Canada", "Toronto"),
    ("azure", "canadaeast", NA, "Canada", "Quebec City"),
    ("azure", "mexicocentral", NA, "Mexico", "Querétaro"),
    ("azure", "brazilsouth", SA, "Brazil", "São Paulo"),
    ("azure", "brazilsoutheast", SA, "Brazil", "Rio de Janeiro"),
    ("azure", "chilecentral", SA, "Chile", "Santiago"),
    ("azure", "northeurope", EU, "Ireland", "Dublin"),
    ("azure", "westeurope", EU, "Netherlands", "Amsterdam"),
    ("azure", "uksouth", EU, "United Kingdom", "London"),
    ("azure", "ukwest", EU, "United Kingdom", "Cardiff"),
    ("azure", "francecentral", EU, "France", "Paris"),
    ("azure", "francesouth", EU, "France", "Marseille"),
    ("azure", "germanywestcentral", EU, "Germany", "Frankfurt"),
    ("azure", "germanynorth", EU, "Germany", "Berlin"),
    ("azure", "switzerlandnorth", EU, "Switzerland", "Zurich"),
    ("azure", "switzerlandwest", EU, "Switzerland", "Geneva"),
    ("azure", "norwayeast", EU, "Norway", "Oslo"),
    ("azure", "norwaywest", EU, "Norway", "Stavanger"),
    ("azure", "swedencentral", EU, "Sweden", "Gävle"),
    ("azure", "swedensouth", EU, "Sweden", "Malmö"),
    ("azure", "polandcentral", EU, "Poland", "Warsaw"),
    ("azure", "italynorth", EU, "Italy", "Milan"),
    ("azure", "spaincentral", EU, "Spain", "Madrid"),
    ("azure", "austriaeast", EU, "Austria", "Vienna"),
    ("azure", "eastasia", AS, "Hong Kong", "Hong Kong"),
    ("azure", "southeastasia", AS, "Singapore", "Singapore"),
    ("azure", "japaneast", AS, "Japan", "Tokyo"),
    ("azure", "japanwest", AS, "Japan", "Osaka"),
    ("azure", "koreacentral", AS, "South Korea", "Seoul"),
    ("azure", "koreasouth", AS, "South Korea", "Busan"),
    ("azure", "centralindia", AS, "India", "Pune"),
    ("azure", "southindia", AS, "India", "Chennai"),
    ("azure", "westindia", AS, "India", "Mumbai"),
    ("azure", "jioindiacentral", AS, "India", "Nagpur"),
    ("azure", "jioindiawest", AS, "India", "Jamnagar"),
    ("azure", "indonesiacentral", AS, "Indonesia", "Jakarta"),
    ("azure", "malaysiawest", AS, "Malaysia", "Kuala Lumpur"),
    ("azure", "australiaeast", OC, "Australia", "Sydney"),
    ("azure", "australiasoutheast", OC, "Australia", "Melbourne"),
    ("azure", "australiacentral", OC, "Australia", "Canberra"),
    ("azure", "australiacentral2", OC, "Australia", "Canberra"),
    ("azure", "newzealandnorth", OC, "New Zealand", "Auckland"),
    ("azure", "southafricanorth", AF, "South Africa", "Johannesburg"),
    ("azure", "southafricawest", AF, "South Africa", "Cape Town"),
    ("azure", "uaenorth", ME, "United Arab Emirates", "Dubai"),
    ("azure", "uaecentral", ME, "United Arab Emirates", "Abu Dhabi"),
    ("azure", "qatarcentral", ME, "Qatar", "Doha"),
    ("azure", "israelcentral", ME, "Israel", "Tel Aviv"),
];

/// Where a provider's region is: (continent, country, city), when known.
pub fn region_location(provider: &str, region_id: &str) -> Option<(&'static str, &'static str, &'static str)> {
    REGIONS.iter().find(|r| r.0 == provider && r.1 == region_id).map(|r| (r.2, r.3, r.4))
}

/// A vCPU count as the provider states it: whole (`4`), or a shared core's share (`0.25`).
pub fn vcpus(cores: f64) -> String {
    if cores.fract() == 0.0 {
        format!("{cores:.0}")
    } else {
        let text = format!("{cores:.3}");
        text.trim_end_matches('0').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_core_shows_its_share() {
        assert_eq!(vcpus(4.0), "4");
        assert_eq!(vcpus(0.25), "0.25");
        assert_eq!(vcpus(0.5), "0.5");
        assert_eq!(vcpus(2.0 / 3.0), "0.667");
    }

    #[test]
    fn known_regions_have_a_place_and_unknown_ones_none() {
        assert_eq!(region_location("aws", "eu-west-1"), Some((EU, "Ireland", "Dublin")));
        assert_eq!(region_location("gcp", "us-central1").map(|r| r.1), Some("United States"));
        assert_eq!(region_location("azure", "westeurope").map(|r| r.1), Some("Netherlands"));
        assert_eq!(region_location("aws", "us-east-1-bue-1"), None, "local zones are not guessed");
        assert_eq!(region_location("gcp", "eu-west-1"), None, "per provider");
    }

    #[test]
    fn no_region_is_listed_twice() {
        let mut seen = std::collections::HashSet::new();
        for r in REGIONS {
            assert!(seen.insert((r.0, r.1)), "{} {}", r.0, r.1);
        }
    }
}
