"""Schemathesis over the whole OpenAPI document, in process, on the real catalog: no server
error and no conformance failure (undocumented status, body or header off its schema,
schema-invalid request accepted, schema-valid request refused by the request model)."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.core.settings import AuthSettings, CatalogSettings, RedisSettings, Settings

pytestmark = pytest.mark.slow


def _app(tmp: Path, real_catalog):
    from app.catalog.store import SQLiteCatalogStore
    from app.main import create_app

    store = SQLiteCatalogStore(real_catalog.copy(tmp))
    # dev_open: requests without a key act as an admin, so generated cases reach the handlers
    return create_app(Settings(_env_file=None, env="dev", catalog=CatalogSettings(db_path=store.path, report_dir=tmp),
                               redis=RedisSettings(url=None),
                               auth=AuthSettings(dev_open=True, db_path=tmp / "auth.sqlite3")))


@pytest.fixture(scope="module")
def api(tmp_path_factory, real_catalog):
    app = _app(tmp_path_factory.mktemp("schema"), real_catalog)
    with TestClient(app):  # runs the lifespan: stores, assistant
        yield app


@schemathesis.check
def schema_valid_input_passes_the_request_model(ctx, response, case):
    """A request the schema accepts may break a domain rule the schema cannot say (min > max,
    a municipality that does not exist: 'entrada_invalida'), never the request model itself
    ('requisicao_invalida': the handler accepts less than it documents)."""
    if case.meta is not None and case.meta.generation.mode.is_positive and response.status_code == 422:
        code = response.json().get("error", {}).get("code")
        assert code != "requisicao_invalida", f"pedido válido pelo esquema recusado pelo modelo: {response.text[:300]}"


CHAT = ("/v1/chat", "/v1/chat/completions")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_conforms(api, mode):
    schema = schemathesis.openapi.from_asgi("/openapi.json", api)
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    for op in operations:
        if mode is GenerationMode.NEGATIVE and not any((op.body, op.query, op.path_parameters, op.headers)):
            continue  # nothing to break in a request without inputs
        budget = 3 if op.path in CHAT else 12  # the chat runs a whole assistant turn per case

        @given(case=op.as_strategy(generation_mode=mode))
        @settings(max_examples=budget, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        def run(case):
            case.call_and_validate(excluded_checks=[positive_data_acceptance],
                                   additional_checks=[schema_valid_input_passes_the_request_model])

        try:
            run()
        except Unsatisfiable:  # no invalid value exists for these inputs (e.g. one optional header)
            continue
        except Exception as exc:  # noqa: BLE001 - collected: one report for the whole document
            failures[f"{op.method.upper()} {op.path}"] = str(exc)[:1500]
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
