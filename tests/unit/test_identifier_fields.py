"""Every pydantic model of the platform that carries an identifier checks it (check characters included), whichever
way the value comes in: import rows, stored records, PATCH bodies, stage filings, API requests and answers."""

from __future__ import annotations

import importlib
import pkgutil
import re
import typing

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

import chalicelib

# field name -> (a valid value, the same value with its check character changed)
IDENTIFIER_FIELDS = [
    (re.compile(r"(^|_)uscc$|^uscc_|corp_code$|^employer$"), "91330782677204726D", "91330782677204726E"),
    (re.compile(r"(^|_)id_no$|id_card"), "11010519491231002X", "110105194912310021"),
    (re.compile(r"business_reg_no$"), "510000000391563", "510000000391564"),
    (re.compile(r"org_code$"), "30934873-4", "30934873-5"),
    (re.compile(r"(^|_)prj_num$|project_num$"), "3307821503100001", "3307821513100001"),  # month 13
]
# Fields whose name matches but whose value is not the identifier itself (a documented reason each).
NOT_IDENTIFIERS = {
    ("Settings", "oidc_claim_uscc"): "the name of a token claim, not a code",
}


def all_models() -> list[type[BaseModel]]:
    for mod in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
        importlib.import_module(mod.name)
    seen, out, todo = set(), [], [BaseModel]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
                if sub.__module__.startswith("chalicelib.") and not sub.__name__.startswith("Row_"):
                    out.append(sub)
    return out


def identifier_fields():
    cases = []
    for model in all_models():
        for name, info in model.model_fields.items():
            for pattern, good, bad in IDENTIFIER_FIELDS:
                if pattern.search(name):
                    cases.append((model, name, info, good, bad))
                    break
    return cases


def _sample(annotation, value):
    origin = typing.get_origin(annotation)
    if origin in (list, set, tuple):
        return [value]
    return value


def test_every_identifier_field_refuses_a_wrong_check_character():
    cases = identifier_fields()
    assert len(cases) > 40, "the walk finds the identifier fields"
    unchecked = []
    for model, name, info, good, bad in cases:
        if (model.__name__, name) in NOT_IDENTIFIERS:
            continue
        adapter = TypeAdapter(info.rebuild_annotation())
        inner = info.annotation
        args = [a for a in typing.get_args(inner) if a is not type(None)]
        container = inner if typing.get_origin(inner) in (list, set, tuple) else (args[0] if args else inner)
        try:
            adapter.validate_python(_sample(container, bad))
        except ValidationError:
            adapter.validate_python(_sample(container, good))  # and a valid value is accepted
            continue
        unchecked.append(f"{model.__module__}.{model.__name__}.{name}")
    assert unchecked == [], f"identifier fields without their checker: {unchecked}"


def test_the_stage_filings_usccs_are_checked():
    """D1: the shape-only USCC of the stage filings accepted 40 of 40 check-character mutations."""
    from chalicelib.domain import stages
    from chalicelib.domain.identifiers import USCC_ALPHABET, check_uscc

    adapter = TypeAdapter(stages.USCC)
    with pytest.raises(ValidationError, match="校验码应为D"):
        adapter.validate_python("91330782677204726E")
    good = "91330782677204726D"
    mutations = [good[:17] + c for c in USCC_ALPHABET if c != good[17]]
    refused = 0
    for m in mutations:
        assert not check_uscc(m).ok
        with pytest.raises(ValidationError):
            adapter.validate_python(m)
        refused += 1
    assert refused == 30


def test_enterprise_registration_number_and_legal_representative_id_are_checked():
    """D2: 工商注册号 and 法定代表人证件号码 use the checked types; the ID must fit its declared type."""
    from chalicelib.domain.enterprise import Enterprise

    for name, bad, message in (
        ("business_reg_no", "510000000391564", "注册号"),
        ("legal_rep_id_no", "110105194912310021", "校验码"),
    ):
        info = Enterprise.model_fields[name]
        with pytest.raises(ValidationError, match=message):
            TypeAdapter(info.rebuild_annotation()).validate_python(bad)
    # a passport number with a passport type is fine; an ID-card number declared as a passport is not
    from chalicelib.domain.fields import identity_problems

    assert identity_problems("3", "E12345678") == []
    assert identity_problems("3", "11010519491231002X") == ["证件号码是居民身份证号，证件类型应为“居民身份证”"]
    assert "性别" in identity_problems("1", "11010519491231002X", sex="1")[0]  # the 17th digit 2: female


def test_a_city_or_province_code_is_not_a_county():
    """D3: check_region_code('330100') is fine as a code, but not as an enterprise's or a project's county."""
    from chalicelib.domain.enterprise import Enterprise
    from chalicelib.domain.project import Project

    for model, field in ((Enterprise, "registered_region"), (Project, "location_region")):
        adapter = TypeAdapter(model.model_fields[field].rebuild_annotation())
        for code in ("330100", "330000"):
            with pytest.raises(ValidationError, match="此处应为县级代码"):
                adapter.validate_python(code)
        assert adapter.validate_python("330782") == "330782"
