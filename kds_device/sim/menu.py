"""A small multi-brand delivery kitchen: ~30 products with modifier groups."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Modifier:
    plu: str
    name: str
    max_qty: int = 1
    sub: tuple[Modifier, ...] = ()  # nested choices (e.g. a meal's nuggets and their dip)


@dataclass(frozen=True)
class Product:
    plu: str
    name: str
    brand: str
    groups: tuple[tuple[Modifier, ...], ...] = ()  # each group: pick 0..2 of these
    kitchen_name: str = ""
    tags: tuple[int, ...] = ()  # Deliverect allergen/tag ids
    components: tuple[Modifier, ...] = field(default=())  # bundle parts, always present


CHEESE = (
    Modifier("MOD-CHDR", "Extra cheddar"),
    Modifier("MOD-BACN", "Bacon"),
    Modifier("MOD-JALA", "Jalapeños"),
    Modifier("MOD-NOON", "No onions"),
    Modifier("MOD-NOPK", "No pickles"),
    Modifier("MOD-GF", "Gluten-free bun"),
)
COOK = (
    Modifier("MOD-MR", "Medium rare"),
    Modifier("MOD-MED", "Medium"),
    Modifier("MOD-WD", "Well done"),
)
DIPS = (
    Modifier("SAUCE-BBQ", "BBQ dip", 3),
    Modifier("SAUCE-GAR", "Garlic mayo", 3),
    Modifier("SAUCE-SRI", "Sriracha mayo", 3),
    Modifier("SAUCE-KET", "Ketchup", 3),
)
PIZZA_TOP = (
    Modifier("TOP-MUSH", "Mushrooms"),
    Modifier("TOP-OLIV", "Olives"),
    Modifier("TOP-NDUJ", "Nduja"),
    Modifier("TOP-XMOZ", "Extra mozzarella"),
    Modifier("TOP-ROCK", "Rocket"),
    Modifier("TOP-VEG", "Vegan cheese"),
)
CRUST = (Modifier("CR-THIN", "Thin crust"), Modifier("CR-GF", "Gluten-free base"))
SPICE = (
    Modifier("SP-MILD", "Mild"),
    Modifier("SP-MED", "Medium hot"),
    Modifier("SP-HOT", "Extra hot"),
)
BOWL_ADD = (
    Modifier("ADD-AVO", "Avocado"),
    Modifier("ADD-EGG", "Soft egg"),
    Modifier("ADD-TOFU", "Crispy tofu"),
    Modifier("ADD-NONUT", "No peanuts"),
)
DRINK = (
    Modifier("DRK-COLA", "Cola"),
    Modifier("DRK-ZERO", "Cola Zero"),
    Modifier("DRK-APL", "Apple juice"),
    Modifier("DRK-H2O", "Still water"),
)

SMOKE = "Smoke & Bun"
PIZZA = "Forno Rosso"
BOWLS = "Green Bowl Co."

PRODUCTS: tuple[Product, ...] = (
    Product("BRG-SMK", "Smokehouse Burger", SMOKE, (CHEESE, COOK), "SMOKEHOUSE", (1, 7)),
    Product("BRG-CLS", "Classic Cheeseburger", SMOKE, (CHEESE, COOK), "CLASSIC", (1, 7)),
    Product("BRG-DBL", "Double Trouble Burger", SMOKE, (CHEESE, COOK), "DOUBLE", (1, 7)),
    Product("BRG-CHK", "Crispy Chicken Burger", SMOKE, (CHEESE, SPICE), "CRISPY CHK", (1, 3)),
    Product("BRG-VEG", "Beyond Veggie Burger", SMOKE, (CHEESE,), "VEGGIE", (1,)),
    Product("FRI-REG", "Fries", SMOKE, (DIPS,)),
    Product("FRI-SWT", "Sweet Potato Fries", SMOKE, (DIPS,)),
    Product("ONI-RNG", "Onion Rings", SMOKE, (DIPS,), "", (1,)),
    Product("WNG-BBQ", "BBQ Wings (8)", SMOKE, (SPICE, DIPS), "WINGS 8"),
    Product("SHK-VAN", "Vanilla Shake", SMOKE, (), "", (7,)),
    Product(
        "MEAL-KID",
        "Kids Meal",
        SMOKE,
        (DRINK,),
        "KIDS MEAL",
        (),
        (Modifier("NUG-6", "6 Nuggets", 1, (Modifier("SAUCE-BBQ", "BBQ dip", 2),)),),
    ),
    Product(
        "MEAL-SMK",
        "Smokehouse Meal",
        SMOKE,
        (DRINK, DIPS),
        "SMK MEAL",
        (1, 7),
        (
            Modifier("BRG-SMK", "Smokehouse Burger", 1, (Modifier("MOD-MED", "Medium"),)),
            Modifier("FRI-REG", "Fries"),
        ),
    ),
    Product("PIZ-MAR", "Margherita", PIZZA, (PIZZA_TOP, CRUST), "", (1, 7)),
    Product("PIZ-DIA", "Diavola", PIZZA, (PIZZA_TOP, CRUST), "", (1, 7)),
    Product("PIZ-FUN", "Funghi e Tartufo", PIZZA, (PIZZA_TOP, CRUST), "FUNGHI", (1, 7)),
    Product("PIZ-QFO", "Quattro Formaggi", PIZZA, (PIZZA_TOP, CRUST), "4 FORMAGGI", (1, 7)),
    Product("PIZ-VEG", "Ortolana (vegan)", PIZZA, (PIZZA_TOP, CRUST), "ORTOLANA", (1,)),
    Product("CAL-NDJ", "Calzone Nduja", PIZZA, (CRUST,), "CALZONE", (1, 7)),
    Product("GAR-BRD", "Garlic Bread", PIZZA, (), "", (1, 7)),
    Product("SAL-CAP", "Caprese Salad", PIZZA, (), "", (7,)),
    Product("TIR-AMI", "Tiramisu", PIZZA, (), "", (1, 3, 7)),
    Product("BWL-POK", "Salmon Poke Bowl", BOWLS, (BOWL_ADD, SPICE), "SALMON POKE", (4, 6)),
    Product("BWL-TER", "Teriyaki Chicken Bowl", BOWLS, (BOWL_ADD,), "TERIYAKI", (6,)),
    Product("BWL-BUD", "Buddha Bowl", BOWLS, (BOWL_ADD,), "BUDDHA", (5,)),
    Product("BWL-SAT", "Satay Tofu Bowl", BOWLS, (BOWL_ADD, SPICE), "SATAY TOFU", (5, 6)),
    Product("WRP-FAL", "Falafel Wrap", BOWLS, (SPICE,), "FALAFEL WRP", (1, 11)),
    Product("SOU-MIS", "Miso Soup", BOWLS, (), "", (6,)),
    Product("GYO-VEG", "Veggie Gyoza (6)", BOWLS, (DIPS,), "GYOZA 6", (1, 6)),
    Product("DRK-KOM", "Ginger Kombucha", BOWLS),
    Product("DRK-LEM", "Homemade Lemonade", BOWLS),
)

#: Deliverect channel ids used by the demo, with the names the board shows.
CHANNELS: dict[int, str] = {7: "Uber Eats", 8: "Deliveroo", 11: "Just Eat", 10000: "Web shop"}
