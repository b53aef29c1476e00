"""Write tasks/data/preferences_groups.jsonl: group-labelled preference pairs with a minority group.

    .venv/bin/python scripts/make_preferences_groups.py            # rewrites the shipped file

Every row asks an everyday question "for someone in" one of three countries, and the two answers
differ only in the convention they are written in: temperatures, road distances and speeds,
body weights, people's heights, numeric dates and fuel economy. The chosen answer uses that
country's convention; the rejected one the same fact in a convention people there do not use.

- United States (the majority): °F, miles, pounds, feet and inches, MM/DD/YYYY, US mpg.
- Germany: °C, km, kg, cm, DD.MM.YYYY, litres per 100 km.
- United Kingdom (the minority): °C, miles, stone, feet and inches, DD/MM/YYYY, imperial mpg.
  It agrees with each of the others on some conventions and with neither on the rest, so a model
  that learns "United States: imperial, otherwise metric" from the pooled data fails it.

Training rows are imbalanced (120 / 48 / 16); the test rows (24 / 16 / 12) ask about facts that
never appear in training. A fact is asked in up to three phrasings (PREFIXES), so rows are not
independent: the `cluster` column names the fact a row's phrasing belongs to (`fact-07`, the same
fact in every group), for bootstrap CIs that resample facts, not rows. The text was written for
this project; the values are rounded conversions of well-known figures. The output is a pure function of SEED.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

SEED = 20240528
OUT = Path(__file__).resolve().parent.parent / "tasks" / "data" / "preferences_groups.jsonl"

COUNTRY = {"United States": "the United States", "Germany": "Germany", "United Kingdom": "the United Kingdom"}
TRAIN_ROWS = {"United States": 120, "Germany": 48, "United Kingdom": 16}
TEST_ROWS = {"United States": 24, "Germany": 16, "United Kingdom": 12}
PREFIXES = ("I live in {c}.", "Answer for someone in {c}:", "A reader in {c} asks:")

# The convention each country writes each kind of quantity in.
CONVENTION = {
    "United States": {"temperature": "F", "distance": "mi", "weight": "lb", "height": "ftin", "date": "mdy",
                      "fuel": "mpg_us"},
    "Germany": {"temperature": "C", "distance": "km", "weight": "kg", "height": "cm", "date": "dmy_dot",
                "fuel": "l100"},
    "United Kingdom": {"temperature": "C", "distance": "mi", "weight": "st", "height": "ftin", "date": "dmy_slash",
                       "fuel": "mpg_uk"},
}


def rejected_convention(group: str, category: str, index: int) -> str:
    """A convention people in `group` do not use for `category`."""
    if group == "United States":
        return {"date": "dmy_slash"}.get(category, CONVENTION["Germany"][category])
    if group == "Germany":
        return CONVENTION["United States"][category]
    return {"temperature": "F", "distance": "km", "weight": ("kg", "lb")[index % 2], "height": "cm",
            "date": "mdy", "fuel": "l100"}[category]


def date(m: int, d: int, y: int) -> dict[str, str]:
    return {"mdy": f"{m:02d}/{d:02d}/{y}", "dmy_dot": f"{d:02d}.{m:02d}.{y}", "dmy_slash": f"{d:02d}/{m:02d}/{y}"}


def fuel(litres: float, us: int, uk: int) -> dict[str, str]:
    return {"l100": f"{litres:g} litres per 100 km", "mpg_us": f"{us} miles per gallon",
            "mpg_uk": f"{uk} miles per gallon"}


# (category, question, answer with {v}, value in every convention of that category)
FACTS: list[tuple[str, str, str, dict[str, str]]] = [
    ("temperature", "At what temperature does water boil at sea level?", "Water boils at {v} at sea level.",
     {"C": "100 °C", "F": "212 °F"}),
    ("temperature", "At what temperature does water freeze?", "Water freezes at {v}.", {"C": "0 °C", "F": "32 °F"}),
    ("temperature", "What is a normal body temperature for a healthy adult?",
     "A normal body temperature is about {v}.", {"C": "37 °C", "F": "98.6 °F"}),
    ("temperature", "What is a comfortable temperature for a living room?",
     "Most people are comfortable at around {v}.", {"C": "21 °C", "F": "70 °F"}),
    ("temperature", "How hot should the oven be for baking bread?", "Bake bread in a hot oven at about {v}.",
     {"C": "220 °C", "F": "425 °F"}),
    ("temperature", "What oven temperature should I use to roast a whole chicken?",
     "Roast it at about {v} until the juices run clear.", {"C": "190 °C", "F": "375 °F"}),
    ("temperature", "How cold should a refrigerator be?", "Keep your refrigerator at about {v} or slightly below.",
     {"C": "4 °C", "F": "40 °F"}),
    ("temperature", "How cold should a home freezer be?", "A home freezer should be at {v} or colder.",
     {"C": "-18 °C", "F": "0 °F"}),
    ("temperature", "At what temperature does a fever start in adults?",
     "A temperature of {v} or higher is usually counted as a fever.", {"C": "38 °C", "F": "100.4 °F"}),
    ("temperature", "What counts as a hot summer day?", "A day above about {v} feels hot to most people.",
     {"C": "30 °C", "F": "86 °F"}),
    ("temperature", "How hot should the water be for a relaxing bath?", "Aim for about {v}, warm but not scalding.",
     {"C": "38 °C", "F": "100 °F"}),
    ("temperature", "What internal temperature makes cooked chicken safe to eat?",
     "Chicken is safe once the thickest part reaches {v}.", {"C": "74 °C", "F": "165 °F"}),
    ("temperature", "What water temperature is best for brewing coffee?", "Use water at about {v}, just off the boil.",
     {"C": "93 °C", "F": "200 °F"}),
    ("temperature", "What is a pleasant water temperature for a swimming pool?",
     "Most swimmers find about {v} pleasant.", {"C": "27 °C", "F": "80 °F"}),
    ("temperature", "How warm is a typical spring afternoon in a temperate climate?",
     "A spring afternoon is often around {v}.", {"C": "15 °C", "F": "59 °F"}),
    ("distance", "How long is a marathon?", "A marathon is {v} long.", {"mi": "26.2 miles", "km": "42.2 km"}),
    ("distance", "How long is a half marathon?", "A half marathon is {v} long.",
     {"mi": "13.1 miles", "km": "21.1 km"}),
    ("distance", "How far is it by road from London to Edinburgh?", "The drive is roughly {v}.",
     {"mi": "400 miles", "km": "650 km"}),
    ("distance", "How far is it by road from Paris to Berlin?", "It is roughly {v} by road.",
     {"mi": "650 miles", "km": "1,050 km"}),
    ("distance", "How far is it to drive from New York to Los Angeles?", "The drive covers about {v}.",
     {"mi": "2,800 miles", "km": "4,500 km"}),
    ("distance", "How long is the Channel Tunnel?", "The Channel Tunnel is about {v} long.",
     {"mi": "31 miles", "km": "50 km"}),
    ("distance", "How fast does an adult usually walk?", "A typical walking pace is about {v}.",
     {"mi": "3 miles per hour", "km": "5 km per hour"}),
    ("distance", "How fast does a typical commuter ride a bicycle?", "Most commuters ride at around {v}.",
     {"mi": "12 miles per hour", "km": "20 km per hour"}),
    ("distance", "How fast can a cheetah run?", "A cheetah can sprint at up to about {v}.",
     {"mi": "70 miles per hour", "km": "110 km per hour"}),
    ("distance", "What is the top speed of a Formula 1 car?", "A Formula 1 car can reach about {v}.",
     {"mi": "220 miles per hour", "km": "350 km per hour"}),
    ("distance", "How fast does a passenger jet cruise?", "Airliners usually cruise at about {v}.",
     {"mi": "560 miles per hour", "km": "900 km per hour"}),
    ("distance", "How long was the historic Route 66?", "Route 66 originally ran for about {v}.",
     {"mi": "2,450 miles", "km": "3,940 km"}),
    ("distance", "How far does light travel in one second?", "Light covers about {v} every second.",
     {"mi": "186,000 miles", "km": "300,000 km"}),
    ("distance", "How far is Land's End from John o' Groats by road?", "The road trip is about {v}.",
     {"mi": "870 miles", "km": "1,400 km"}),
    ("weight", "How much does an average adult man weigh?", "An average adult man weighs about {v}.",
     {"kg": "85 kg", "lb": "187 pounds", "st": "13 stone 5 pounds"}),
    ("weight", "How much does an average adult woman weigh?", "An average adult woman weighs about {v}.",
     {"kg": "70 kg", "lb": "154 pounds", "st": "11 stone"}),
    ("weight", "How much does a flat-racing jockey usually weigh?", "Most flat jockeys weigh about {v}.",
     {"kg": "54 kg", "lb": "119 pounds", "st": "8 stone 7 pounds"}),
    ("weight", "What is the lower weight limit for a heavyweight boxer?", "Heavyweights must weigh more than {v}.",
     {"kg": "90.7 kg", "lb": "200 pounds", "st": "14 stone 4 pounds"}),
    ("weight", "How much does a top-division sumo wrestler typically weigh?", "Top sumo wrestlers weigh about {v}.",
     {"kg": "150 kg", "lb": "330 pounds", "st": "23 stone 8 pounds"}),
    ("weight", "How much does a typical 14-year-old boy weigh?", "A 14-year-old boy typically weighs about {v}.",
     {"kg": "50 kg", "lb": "110 pounds", "st": "7 stone 12 pounds"}),
    ("weight", "How much weight is it sensible to lose in a month?",
     "A steady loss of {v} a month is a sensible goal.",
     {"kg": "2 to 4 kg", "lb": "4 to 8 pounds", "st": "about half a stone"}),
    ("weight", "What is the maximum load of a typical bathroom scale?", "Most bathroom scales go up to about {v}.",
     {"kg": "180 kg", "lb": "400 pounds", "st": "28 stone"}),
    ("height", "How tall is an average adult man?", "The average adult man is about {v} tall.",
     {"cm": "175 cm", "ftin": "5 ft 9 in"}),
    ("height", "How tall is an average adult woman?", "The average adult woman is about {v} tall.",
     {"cm": "162 cm", "ftin": "5 ft 4 in"}),
    ("height", "How tall was Abraham Lincoln?", "Abraham Lincoln was about {v} tall.",
     {"cm": "193 cm", "ftin": "6 ft 4 in"}),
    ("height", "How tall was Robert Wadlow, the tallest man on record?", "Robert Wadlow measured {v}.",
     {"cm": "272 cm", "ftin": "8 ft 11 in"}),
    ("height", "How tall is Usain Bolt?", "Usain Bolt is about {v} tall.", {"cm": "195 cm", "ftin": "6 ft 5 in"}),
    ("height", "How tall is a typical five-year-old child?", "A five-year-old is usually about {v} tall.",
     {"cm": "110 cm", "ftin": "3 ft 7 in"}),
    ("height", "How tall is the average professional basketball player?", "Professional players average about {v}.",
     {"cm": "198 cm", "ftin": "6 ft 6 in"}),
    ("date", "What is the date of New Year's Eve 2025, written in numbers?", "New Year's Eve 2025 is on {v}.",
     date(12, 31, 2025)),
    ("date", "Write the date of Christmas Day 2025 in numbers.", "Christmas Day 2025 is {v}.", date(12, 25, 2025)),
    ("date", "What is the date of Halloween 2026 in numbers?", "Halloween 2026 falls on {v}.", date(10, 31, 2026)),
    ("date", "On what date did Apollo 11 land on the Moon? Give it in numbers.", "Apollo 11 landed on {v}.",
     date(7, 20, 1969)),
    ("date", "When did the Berlin Wall fall? Give the date in numbers.", "The Berlin Wall fell on {v}.",
     date(11, 9, 1989)),
    ("date", "What is the date of Valentine's Day 2026 in numbers?", "Valentine's Day 2026 is on {v}.",
     date(2, 14, 2026)),
    ("date", "What date is Pi Day in 2026, written in numbers?", "Pi Day 2026 is on {v}.", date(3, 14, 2026)),
    ("date", "What is the leap day of 2028, written in numbers?", "The leap day of 2028 is {v}.",
     date(2, 29, 2028)),
    ("date", "What date is International Women's Day 2026, in numbers?", "International Women's Day 2026 is on {v}.",
     date(3, 8, 2026)),
    ("date", "On what date did the Titanic sink? Write it in numbers.", "The Titanic sank on {v}.",
     date(4, 15, 1912)),
    ("date", "What date is the June solstice in 2026, in numbers?", "The June solstice of 2026 is on {v}.",
     date(6, 21, 2026)),
    ("date", "On what date did the Wright brothers first fly? Give it in numbers.",
     "The Wright brothers first flew on {v}.", date(12, 17, 1903)),
    ("date", "What date is US Independence Day in 2026, in numbers?", "Independence Day 2026 is on {v}.",
     date(7, 4, 2026)),
    ("fuel", "What fuel economy does a small petrol hatchback get?",
     "A small petrol hatchback's fuel economy is about {v}.", fuel(5.5, 43, 51)),
    ("fuel", "What fuel economy does a family SUV get?", "A family SUV's fuel economy is about {v}.", fuel(8, 29, 35)),
    ("fuel", "What fuel economy does a large pickup truck get?", "A large pickup truck's fuel economy is about {v}.",
     fuel(12, 20, 24)),
    ("fuel", "What fuel economy does a hybrid hatchback get?", "A hybrid hatchback's fuel economy is about {v}.",
     fuel(4, 59, 71)),
    ("fuel", "What fuel economy does a sports car get when driven hard?",
     "Driven hard, a sports car's fuel economy is about {v}.", fuel(15, 16, 19)),
    ("fuel", "What fuel economy does a diesel estate car get on a long motorway trip?",
     "On a long motorway trip a diesel estate's fuel economy is about {v}.", fuel(5, 47, 56)),
    ("fuel", "What fuel economy does a small 125 cc motorbike get?",
     "A small 125 cc motorbike's fuel economy is about {v}.", fuel(2.5, 94, 113)),
    ("fuel", "What fuel economy does a city bus get?", "A city bus's fuel economy is about {v}.", fuel(40, 6, 7)),
]


def rows() -> list[dict[str, str]]:
    """Every row, train then test, each group's rows drawn without replacement from (fact, prefix)."""
    rng = random.Random(SEED)
    per_category: dict[str, int] = {}
    test_facts = set()
    for i, (category, *_rest) in enumerate(FACTS):
        k = per_category.get(category, 0)
        per_category[category] = k + 1
        if k % 5 == 4:  # every fifth fact of each kind is held out for testing
            test_facts.add(i)
    out = []
    for split, counts in (("train", TRAIN_ROWS), ("test", TEST_ROWS)):
        for group, n in counts.items():
            pool = [(i, p) for i in range(len(FACTS)) if (i in test_facts) == (split == "test")
                    for p in range(len(PREFIXES))]
            rng.shuffle(pool)
            for i, p in sorted(pool[:n]):
                category, question, answer, values = FACTS[i]
                good = CONVENTION[group][category]
                bad = rejected_convention(group, category, i)
                assert values[good] != values[bad], (i, group)
                out.append({
                    "id": f"{split}-{group.lower().replace(' ', '_')}-{i:02d}-{p}",
                    "cluster": f"fact-{i:02d}",
                    "group": group,
                    "category": category,
                    "prompt": f"{PREFIXES[p].format(c=COUNTRY[group])} {question}",
                    "chosen": answer.format(v=values[good]),
                    "rejected": answer.format(v=values[bad]),
                    "split": split,
                })
    return out


def main() -> None:
    data = rows()
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data), encoding="utf-8")
    print(f"wrote {len(data)} rows to {OUT}")


if __name__ == "__main__":
    main()
