"""The benchmark at utility scale (docs/architecture.md §11 (results: BENCHMARKS.md)): `manage.py bench --accounts N`.

- `city`: builds a city of N accounts with a year of history, with COPY, not the ORM;
- `measure`: each step of the monthly cycle against a floor measured on the same data;
- `load` (run as its own process): the load generator for the cabinet pages;
- `settings` / `urls`: the web server the bench starts (the site plus a trivial view);
- `report`: the table, the machine and BENCHMARKS.md.
"""
