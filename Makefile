# The two commands a new user needs (both set up .venv themselves):
#   make example   fit the bundled flagship model (mixed-effects logistic regression) and print its report
#   make test      run the test suite
PY := .venv/bin/python

.PHONY: example test test-all lint bench hard docs validate bootstrap

bootstrap:
	@bash scripts/bootstrap.sh

example: bootstrap
	$(PY) -m bayesmixed fit --model contraception --out runs/contraception --force

test: bootstrap
	$(PY) -m ruff check bayesmixed tests benchmarks examples
	env $$($(PY) -m bayesmixed._blas_env) $(PY) -m pytest -q -n 2 --dist loadfile -m "not slow" --durations=30

test-all: bootstrap
	env $$($(PY) -m bayesmixed._blas_env) $(PY) -m pytest -q -n 2 --dist loadfile -m "slow or not slow"

lint: bootstrap
	$(PY) -m ruff check .

bench: bootstrap
	$(PY) -m benchmarks.run

hard: bootstrap
	$(PY) -m benchmarks.hard

docs: bootstrap
	$(PY) -m mkdocs build --strict

validate: bootstrap
	$(PY) -m bayesmixed.validate.run_all --out docs/validation.md
