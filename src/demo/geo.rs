//! Names, places and phone plans for believable demo leads. Phone numbers follow each
//! country's real mobile numbering (none in the ranges reserved for drama), and every
//! email domain is a reserved example domain.

use rand::Rng;
use rand::seq::IndexedRandom as _;

pub struct City {
    pub name: &'static str,
    /// Postal code pattern: `#` a digit, `@` a capital letter, anything else kept.
    pub postal: &'static str,
}

pub struct Region {
    pub name: &'static str,
    pub cities: &'static [City],
}

pub struct Country {
    pub code: &'static str,
    pub first_names: &'static [&'static str],
    pub last_names: &'static [&'static str],
    pub streets: &'static [&'static str],
    pub regions: &'static [Region],
    /// Mobile number pattern in E.164: `#` a digit.
    pub mobiles: &'static [&'static str],
    /// Typical annual income range, major units.
    pub income: (i64, i64),
}

macro_rules! c {
    ($name:literal, $postal:literal) => {
        City {
            name: $name,
            postal: $postal,
        }
    };
}

pub const COUNTRIES: &[Country] = &[
    Country {
        code: "GB",
        first_names: &[
            "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Mia", "Charlie",
            "Grace", "Thomas", "Sophie", "James", "Emily", "William", "Lily",
        ],
        last_names: &[
            "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
            "Patel", "Evans", "Thomas", "Roberts", "Walker", "Wright", "Khan", "Hughes",
        ],
        streets: &[
            "High Street",
            "Station Road",
            "Church Lane",
            "Victoria Road",
            "Park Avenue",
            "Mill Lane",
            "Queens Road",
            "Manor Way",
        ],
        regions: &[
            Region {
                name: "England",
                cities: &[
                    c!("London", "E# #@@"),
                    c!("Manchester", "M## #@@"),
                    c!("Birmingham", "B## #@@"),
                    c!("Leeds", "LS# #@@"),
                    c!("Bristol", "BS# #@@"),
                ],
            },
            Region {
                name: "Scotland",
                cities: &[c!("Edinburgh", "EH# #@@"), c!("Glasgow", "G## #@@")],
            },
            Region {
                name: "Wales",
                cities: &[c!("Cardiff", "CF## #@@"), c!("Swansea", "SA# #@@")],
            },
        ],
        mobiles: &["+4479########", "+4478########", "+4475########"],
        income: (16_000, 140_000),
    },
    Country {
        code: "US",
        first_names: &[
            "Liam",
            "Olivia",
            "Noah",
            "Emma",
            "Elijah",
            "Charlotte",
            "James",
            "Sophia",
            "Benjamin",
            "Isabella",
            "Lucas",
            "Harper",
            "Mason",
            "Evelyn",
            "Ethan",
            "Abigail",
        ],
        last_names: &[
            "Smith",
            "Johnson",
            "Williams",
            "Brown",
            "Jones",
            "Garcia",
            "Miller",
            "Davis",
            "Rodriguez",
            "Martinez",
            "Hernandez",
            "Lopez",
            "Wilson",
            "Anderson",
            "Thomas",
            "Moore",
        ],
        streets: &[
            "Main Street",
            "Oak Avenue",
            "Maple Drive",
            "Cedar Lane",
            "Elm Street",
            "Washington Avenue",
            "Lake Road",
            "Pine Street",
        ],
        regions: &[
            Region {
                name: "California",
                cities: &[
                    c!("Los Angeles", "900##"),
                    c!("San Francisco", "941##"),
                    c!("San Diego", "921##"),
                ],
            },
            Region {
                name: "New York",
                cities: &[c!("New York", "100##"), c!("Buffalo", "142##")],
            },
            Region {
                name: "Texas",
                cities: &[
                    c!("Houston", "770##"),
                    c!("Austin", "787##"),
                    c!("Dallas", "752##"),
                ],
            },
            Region {
                name: "Illinois",
                cities: &[c!("Chicago", "606##")],
            },
            Region {
                name: "Florida",
                cities: &[c!("Miami", "331##"), c!("Orlando", "328##")],
            },
        ],
        mobiles: &[
            "+1212#######",
            "+1312#######",
            "+1415#######",
            "+1713#######",
            "+1305#######",
            "+1617#######",
        ],
        income: (22_000, 250_000),
    },
    Country {
        code: "DE",
        first_names: &[
            "Lukas", "Mia", "Leon", "Emma", "Finn", "Hannah", "Paul", "Sofia", "Jonas", "Lea",
            "Felix", "Marie", "Max", "Anna", "Elias", "Lena",
        ],
        last_names: &[
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Schulz",
            "Hoffmann",
            "Koch",
            "Richter",
            "Klein",
            "Wolf",
            "Neumann",
            "Braun",
        ],
        streets: &[
            "Hauptstraße",
            "Bahnhofstraße",
            "Gartenstraße",
            "Schulstraße",
            "Dorfstraße",
            "Bergstraße",
            "Lindenstraße",
            "Kirchweg",
        ],
        regions: &[
            Region {
                name: "Bayern",
                cities: &[
                    c!("München", "80###"),
                    c!("Nürnberg", "90###"),
                    c!("Augsburg", "86###"),
                ],
            },
            Region {
                name: "Berlin",
                cities: &[c!("Berlin", "10###")],
            },
            Region {
                name: "Hamburg",
                cities: &[c!("Hamburg", "20###")],
            },
            Region {
                name: "Nordrhein-Westfalen",
                cities: &[
                    c!("Köln", "50###"),
                    c!("Düsseldorf", "40###"),
                    c!("Dortmund", "44###"),
                ],
            },
        ],
        mobiles: &["+49151########", "+49152########", "+49157########"],
        income: (18_000, 160_000),
    },
    Country {
        code: "FR",
        first_names: &[
            "Gabriel", "Louise", "Raphaël", "Jade", "Léo", "Ambre", "Louis", "Alice", "Arthur",
            "Emma", "Jules", "Rose", "Adam", "Chloé", "Hugo", "Léa",
        ],
        last_names: &[
            "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
            "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David",
        ],
        streets: &[
            "rue de la République",
            "avenue Victor Hugo",
            "rue Pasteur",
            "boulevard Voltaire",
            "rue des Écoles",
            "place de la Mairie",
        ],
        regions: &[
            Region {
                name: "Île-de-France",
                cities: &[
                    c!("Paris", "750##"),
                    c!("Versailles", "78000"),
                    c!("Boulogne-Billancourt", "92100"),
                ],
            },
            Region {
                name: "Auvergne-Rhône-Alpes",
                cities: &[c!("Lyon", "6900#"), c!("Grenoble", "38000")],
            },
            Region {
                name: "Provence-Alpes-Côte d'Azur",
                cities: &[c!("Marseille", "130##"), c!("Nice", "06#00")],
            },
            Region {
                name: "Occitanie",
                cities: &[c!("Toulouse", "310##"), c!("Montpellier", "34000")],
            },
        ],
        mobiles: &["+336########", "+337########"],
        income: (17_000, 130_000),
    },
    Country {
        code: "ES",
        first_names: &[
            "Hugo",
            "Lucía",
            "Mateo",
            "Sofía",
            "Martín",
            "Martina",
            "Lucas",
            "María",
            "Leo",
            "Julia",
            "Daniel",
            "Paula",
            "Alejandro",
            "Valeria",
            "Pablo",
            "Emma",
        ],
        last_names: &[
            "García",
            "Rodríguez",
            "González",
            "Fernández",
            "López",
            "Martínez",
            "Sánchez",
            "Pérez",
            "Gómez",
            "Martín",
            "Jiménez",
            "Ruiz",
            "Hernández",
            "Díaz",
            "Moreno",
            "Álvarez",
        ],
        streets: &[
            "Calle Mayor",
            "Calle Real",
            "Avenida de la Constitución",
            "Calle del Sol",
            "Plaza de España",
            "Calle Nueva",
        ],
        regions: &[
            Region {
                name: "Comunidad de Madrid",
                cities: &[c!("Madrid", "280##"), c!("Alcalá de Henares", "288##")],
            },
            Region {
                name: "Cataluña",
                cities: &[c!("Barcelona", "080##"), c!("Girona", "170##")],
            },
            Region {
                name: "Andalucía",
                cities: &[
                    c!("Sevilla", "410##"),
                    c!("Málaga", "290##"),
                    c!("Granada", "180##"),
                ],
            },
            Region {
                name: "Comunitat Valenciana",
                cities: &[c!("Valencia", "460##"), c!("Alicante", "030##")],
            },
        ],
        mobiles: &["+346########"],
        income: (14_000, 110_000),
    },
    Country {
        code: "IT",
        first_names: &[
            "Leonardo",
            "Sofia",
            "Francesco",
            "Giulia",
            "Alessandro",
            "Aurora",
            "Lorenzo",
            "Alice",
            "Mattia",
            "Ginevra",
            "Tommaso",
            "Emma",
            "Riccardo",
            "Giorgia",
            "Andrea",
            "Beatrice",
        ],
        last_names: &[
            "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
            "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa",
        ],
        streets: &[
            "Via Roma",
            "Via Garibaldi",
            "Corso Italia",
            "Via Dante",
            "Via Mazzini",
            "Piazza del Duomo",
        ],
        regions: &[
            Region {
                name: "Lombardia",
                cities: &[c!("Milano", "201##"), c!("Bergamo", "241##")],
            },
            Region {
                name: "Lazio",
                cities: &[c!("Roma", "001##")],
            },
            Region {
                name: "Campania",
                cities: &[c!("Napoli", "801##"), c!("Salerno", "841##")],
            },
            Region {
                name: "Piemonte",
                cities: &[c!("Torino", "101##")],
            },
        ],
        mobiles: &[
            "+39320#######",
            "+39333#######",
            "+39347#######",
            "+39348#######",
        ],
        income: (15_000, 120_000),
    },
    Country {
        code: "NL",
        first_names: &[
            "Noah", "Emma", "Luca", "Julia", "Sem", "Mila", "Liam", "Tess", "Daan", "Sophie",
            "Finn", "Zoë", "Levi", "Sara", "Milan", "Nora",
        ],
        last_names: &[
            "de Jong",
            "Jansen",
            "de Vries",
            "van den Berg",
            "van Dijk",
            "Bakker",
            "Janssen",
            "Visser",
            "Smit",
            "Meijer",
            "de Boer",
            "Mulder",
            "de Groot",
            "Bos",
            "Vos",
            "Peters",
        ],
        streets: &[
            "Kerkstraat",
            "Schoolstraat",
            "Molenweg",
            "Dorpsstraat",
            "Stationsweg",
            "Julianastraat",
        ],
        regions: &[
            Region {
                name: "Noord-Holland",
                cities: &[c!("Amsterdam", "10## @@"), c!("Haarlem", "20## @@")],
            },
            Region {
                name: "Zuid-Holland",
                cities: &[c!("Rotterdam", "30## @@"), c!("Den Haag", "25## @@")],
            },
            Region {
                name: "Utrecht",
                cities: &[c!("Utrecht", "35## @@")],
            },
        ],
        mobiles: &["+3161#######", "+3162#######", "+3164#######"],
        income: (20_000, 150_000),
    },
    Country {
        code: "PL",
        first_names: &[
            "Jan",
            "Zuzanna",
            "Antoni",
            "Julia",
            "Franciszek",
            "Zofia",
            "Aleksander",
            "Hanna",
            "Jakub",
            "Maja",
            "Szymon",
            "Laura",
            "Filip",
            "Alicja",
            "Stanisław",
            "Oliwia",
        ],
        last_names: &[
            "Nowak",
            "Kowalski",
            "Wiśniewski",
            "Wójcik",
            "Kowalczyk",
            "Kamiński",
            "Lewandowski",
            "Zieliński",
            "Szymański",
            "Woźniak",
            "Dąbrowski",
            "Kozłowski",
            "Jankowski",
            "Mazur",
            "Krawczyk",
            "Piotrowski",
        ],
        streets: &[
            "ul. Polna",
            "ul. Leśna",
            "ul. Słoneczna",
            "ul. Krótka",
            "ul. Szkolna",
            "ul. Ogrodowa",
        ],
        regions: &[
            Region {
                name: "Mazowieckie",
                cities: &[c!("Warszawa", "0#-###")],
            },
            Region {
                name: "Małopolskie",
                cities: &[c!("Kraków", "3#-###")],
            },
            Region {
                name: "Dolnośląskie",
                cities: &[c!("Wrocław", "5#-###")],
            },
        ],
        mobiles: &[
            "+4850#######",
            "+4860#######",
            "+4869#######",
            "+4878#######",
        ],
        income: (12_000, 90_000),
    },
];

pub const EMAIL_DOMAINS: &[&str] = &["example.com", "example.org", "example.net"];

/// Fills a pattern: `#` becomes a digit, `@` a capital letter.
pub fn fill(pattern: &str, rng: &mut impl Rng) -> String {
    pattern
        .chars()
        .map(|ch| match ch {
            '#' => char::from(b'0' + rng.random_range(0..10u8)),
            '@' => char::from(b'A' + rng.random_range(0..26u8)),
            other => other,
        })
        .collect()
}

/// ASCII for an email local part: accents dropped, spaces removed.
pub fn ascii_fold(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        let mapped = match ch {
            'á' | 'à' | 'â' | 'ä' | 'Á' | 'À' => "a",
            'é' | 'è' | 'ê' | 'ë' | 'É' => "e",
            'í' | 'ì' | 'î' | 'ï' => "i",
            'ó' | 'ò' | 'ô' | 'ö' | 'Ó' => "o",
            'ú' | 'ù' | 'û' | 'ü' => "u",
            'ç' => "c",
            'ñ' => "n",
            'ß' => "ss",
            'ł' | 'Ł' => "l",
            'ś' | 'Ś' => "s",
            'ź' | 'ż' | 'Ż' => "z",
            'ą' => "a",
            'ę' => "e",
            'ć' => "c",
            'ń' => "n",
            'Ë' => "e",
            c if c.is_ascii_alphanumeric() => {
                out.push(c.to_ascii_lowercase());
                continue;
            }
            _ => continue,
        };
        out.push_str(mapped);
    }
    out
}

pub fn pick<'a, T>(items: &'a [T], rng: &mut impl Rng) -> &'a T {
    items.choose(rng).expect("demo lists are not empty")
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn patterns_fill_digits_and_letters() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let p = fill("EH# #@@", &mut rng);
        assert_eq!(p.len(), 7);
        assert!(
            p.starts_with("EH")
                && p.as_bytes()[2].is_ascii_digit()
                && p.as_bytes()[6].is_ascii_uppercase()
        );
        let phone = fill("+4479########", &mut rng);
        assert!(phone.starts_with("+4479") && phone[1..].bytes().all(|b| b.is_ascii_digit()));
    }

    #[test]
    fn names_fold_to_ascii_for_emails() {
        assert_eq!(ascii_fold("Müller"), "muller");
        assert_eq!(ascii_fold("van den Berg"), "vandenberg");
        assert_eq!(ascii_fold("Wiśniewski"), "wisniewski");
        for c in COUNTRIES {
            for n in c.first_names.iter().chain(c.last_names) {
                assert!(!ascii_fold(n).is_empty(), "{n}");
            }
        }
    }
}
