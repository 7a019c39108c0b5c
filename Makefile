# 大客户经理助手 — everything a new engineer needs is one of these targets.
# `make run` and `make test` work from a fresh clone; every target sets up what it needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV    := .venv
PY      := $(VENV)/bin/python
KAM     := $(VENV)/bin/kam
STAMP   := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1
export TF_CPP_MIN_LOG_LEVEL := 3

.PHONY: help setup venv db model train run serve test lint eval bench telegram wecom clean

help:
	@echo "make run     准备一切（虚拟环境、依赖、演示数据库、模型）并打开终端中文对话"
	@echo "make serve   前台启动 Rasa（REST, $${RASA_PORT:-5005}）和动作服务器（$${ACTIONS_PORT:-5055}）"
	@echo "make test    准备所需环境并运行全部测试"
	@echo "make setup   只做准备：虚拟环境、依赖、数据库迁移、空库时导入演示数据"
	@echo "make train   强制重新训练模型"
	@echo "make telegram 启动两个服务器和 Telegram 机器人（需要 TELEGRAM_BOT_TOKEN）"
	@echo "make wecom   启动两个服务器和企业微信前端（需要 WECOM_* 设置）"
	@echo "make lint    ruff 检查"
	@echo "make eval    用留出测试集评估意图识别和客户解析，写 docs/eval.md"
	@echo "make bench   1 万客户、1/10/50 并发的延迟、吞吐和内存（SQLite 和 PostgreSQL），以及全新克隆后 make run 的等待时间"

$(STAMP): pyproject.toml constraints.txt
	@PY310="$$(scripts/find-python310.sh)" || exit 1; \
	if [ ! -x $(PY) ]; then echo ">> 创建虚拟环境 $(VENV)（$$PY310）"; "$$PY310" -m venv $(VENV) || exit 1; fi
	@echo ">> 安装固定版本的依赖（首次约需几分钟）"
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip==24.2 setuptools==70.3.0 wheel==0.45.1
	@$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

setup: $(STAMP)
	@$(KAM) setup

model: setup
	@$(KAM) train

train: setup
	@$(KAM) train --force

run: model
	@if [ -n "$$TELEGRAM_BOT_TOKEN" ]; then $(KAM) telegram; \
	elif [ -n "$$WECOM_CORP_ID" ]; then $(KAM) wecom; else $(KAM) run; fi

telegram: model
	@$(KAM) telegram

wecom: model
	@$(KAM) wecom

serve: model
	@$(KAM) serve

lint: $(STAMP)
	@$(VENV)/bin/ruff check actions tests scripts $(wildcard bot)

test: setup
	@$(KAM) kb check
	@$(VENV)/bin/ruff check actions tests scripts $(wildcard bot)
	@$(VENV)/bin/pytest -q -p no:cacheprovider

eval: model
	@$(PY) scripts/eval_report.py

bench: model
	@$(PY) scripts/bench_resolver.py
	@$(PY) scripts/bench_rest.py
	@$(PY) scripts/bench_start.py --fresh

clean:
	rm -rf models .rasa results
