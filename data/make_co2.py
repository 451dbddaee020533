"""Make data/co2_monthly.csv: the Mauna Loa CO2 record as monthly means.

The source is co2.csv from the statsmodels wheel (see data/README.md): one row per week,
`date` as YYYYMMDD (the Saturday that ends the week) and `co2` in parts per million (ppm),
empty where the week has no measurement.

    python data/make_co2.py PATH/TO/co2.csv [OUTPUT]

OUTPUT defaults to co2_monthly.csv beside this script. It has one row per calendar month from
the first to the last week of the source, `month` as YYYY-MM, `co2_ppm` the mean of that
month's measured weeks rounded to 0.01 ppm (empty when no week of the month was measured) and
`weeks`, how many weeks were measured. The same source always gives the same bytes.
"""

import csv
import sys
from pathlib import Path


def monthly_means(rows):
    """Average weekly values into calendar months.

    rows: iterable of (date, value) text pairs, date as YYYYMMDD and value a number or ''.
    Returns a list of (YYYY-MM, mean or None, weeks measured) for every month from the first
    date's to the last date's, in order, months without any row included.

    >>> monthly_means([("19580329", "316.1"), ("19580405", "317.3"), ("19580412", ""), ("19580607", "")])
    [('1958-03', 316.1, 1), ('1958-04', 317.3, 1), ('1958-05', None, 0), ('1958-06', None, 0)]
    """
    values = {}
    for date, value in rows:
        month = (int(date[:4]), int(date[4:6]))
        values.setdefault(month, [])
        if value.strip():
            values[month].append(float(value))
    (year, month), last = min(values), max(values)
    result = []
    while (year, month) <= last:
        measured = values.get((year, month), [])
        mean = round(sum(measured) / len(measured), 2) if measured else None
        result.append((f"{year}-{month:02d}", mean, len(measured)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    source = Path(argv[1])
    output = Path(argv[2]) if len(argv) == 3 else Path(__file__).resolve().parent / "co2_monthly.csv"
    with source.open(newline="") as file:
        rows = [(row["date"], row["co2"]) for row in csv.DictReader(file)]
    with output.open("w", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["month", "co2_ppm", "weeks"])
        for month, mean, weeks in monthly_means(rows):
            writer.writerow([month, "" if mean is None else f"{mean:.2f}", weeks])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
