"""The knowledge base validates, and a broken file is reported with file, entry and problem."""

import shutil
from pathlib import Path

import pytest
import yaml

from actions.core.lexicon import jieba_dictionary_text
from actions.kb import loader

KB = Path(loader.__file__).parent


def test_kb_check_passes(capsys):
    from actions.cli import main

    assert main(["kb", "check"]) == 0
    assert "知识库校验通过" in capsys.readouterr().out


def test_every_catalog_product_has_fabe_for_all_industries():
    codes = {p.code for p in loader.products()}
    assert len(codes) == 19
    for code, entry in loader.fabe().items():
        assert set(loader.INDUSTRIES) <= set(entry.benefit), code
        assert set(loader.OBJECTIONS) <= set(entry.objections), code


def test_every_tier_has_two_bundles_and_practice_bundles_exist():
    names = " ".join(b.name for b in loader.bundles())
    for known in ("集群网6元包月", "96688超惠", "网吧ICT套餐", "政务e通", "企业e通", "学园e通"):
        assert known in names
    for tier in loader.TIER_KEYS:
        assert sum(tier in b.tiers for b in loader.bundles()) >= 2


def _broken(tmp_path, file, mutate):
    d = tmp_path / "kb"
    shutil.copytree(KB, d, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    data = yaml.safe_load((d / file).read_text(encoding="utf-8"))
    mutate(data)
    (d / file).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    loader.clear_cache()
    return str(d)


@pytest.mark.parametrize(
    "file,mutate,entry,problem",
    [
        ("fabe.yml", lambda d: d["products"]["IDC"]["benefit"].pop("医疗"), "IDC", "缺少行业：医疗"),
        ("bundles.yml", lambda d: d["bundles"][0].update(products=["NOPE"]), "CLUSTER_6", "产品 NOPE"),
        ("bundles.yml", lambda d: d["bundles"][0].update(tiers=["ruby"]), "CLUSTER_6", "未知等级 ruby"),
        ("spin.yml", lambda d: d["general"]["S"].append("问{nonsense}"), "general.S", "未知占位符"),
        ("products.yml", lambda d: d["products"][1].update(code="CENTREX"), "CENTREX", "code 重复"),
    ],
)
def test_load_error_names_file_entry_problem(tmp_path, file, mutate, entry, problem):
    d = _broken(tmp_path, file, mutate)
    try:
        with pytest.raises(loader.KnowledgeError) as e:
            loader.check_all(d)
        assert e.value.file == file and e.value.entry == entry and problem in e.value.problem
    finally:
        loader.clear_cache()


def test_committed_jieba_dictionary_is_current():
    committed = (KB / "jieba" / "userdict.txt").read_text(encoding="utf-8")
    assert committed == jieba_dictionary_text(), "run: kam kb jieba  (then make train)"
