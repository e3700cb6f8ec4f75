# Shortcuts; the README's two commands are scripts/run and scripts/test (make may not be installed yet).
.PHONY: run test unit bench docs lab lab-stop
run:
	./scripts/run
test:
	./scripts/test
unit:
	./scripts/test tests/unit tests/web
bench:
	for b in bench/bench_*.py; do .venv/bin/python $$b || exit 1; done
docs:
	.venv/bin/python -m piranha.lvscf.docgen > docs/lvs.cf.md
lab:
	./scripts/lab start
lab-stop:
	./scripts/lab stop
