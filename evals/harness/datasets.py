"""Load and validate the eval datasets in ``evals/datasets/`` (format: its README.md).

Every problem is a :class:`DatasetError` naming the file and the line, e.g.
``evals/datasets/conversations/dev.yaml:42: turn 2 of 'dv07-…': unknown tool 'size_system'``,
so a typo in a hand-written set is found in seconds, not by a wrong score.

Expected tool arguments are checked against the assistant's real tool schemas
(:mod:`app.agent.tools`) plus :data:`FUTURE_ARGS`: arguments the issue wants but the tools
do not take yet (roof type, battery capacity…). They stay in the expectation on purpose —
today's assistant fails them, and the score says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app.core.yamlfile import SafeLoader, load_yaml

DATASETS_DIR = Path(__file__).resolve().parents[1] / "datasets"
SPLITS = ("dev", "test")
LANGS = ("pt", "en")
ROLES = ("widget", "sales_rep", "admin")
CATEGORIES = (
    "sizing", "sizing_bill", "clarification", "homonym", "correction", "generation", "products", "battery",
    "financing", "quote", "knowledge", "off_topic", "abuse", "injection",
)
# The slot groups the assistant asks for (app.agent.state / sales): what a clarifying turn expects.
SLOTS = ("consumption", "tariff", "site", "uf", "connection", "financing_amount", "quote_company",
         "quote_confirmation")
REFUSALS = ("off_topic", "abuse", "injection", "unauthorized")
QA_TYPES = ("regulation", "financing", "string_sizing", "datasheet", "source_silent", "unanswerable")
# Arguments the issue asks for that today's tool schemas lack (recorded, scored, expected to fail).
# Empty since dataset version 2: the tools take roof_type, system_kwp, capacity_kwh and voltage_v.
FUTURE_ARGS: dict[str, tuple[str, ...]] = {}
CAPEX = "$capex"  # the estimated investment of the conversation's latest sizing result
_COMPANY = re.compile(r"\$company\.([a-z0-9_]+)")


class DatasetError(ValueError):
    """A malformed dataset file; ``str()`` starts with ``path:line:``."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path, self.line = Path(path), line
        super().__init__(f"{_show(path)}:{line if line is not None else '?'}: {message}")


def _show(path: Path | str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class ExpectedCall:
    tool: str
    args: dict[str, Any]


@dataclass
class Turn:
    user: str
    line: int
    calls: list[ExpectedCall] | None = None  # [] = no tool call expected
    ask: list[str] | None = None
    known: list[str] = field(default_factory=list)
    refuse: str | None = None
    forbid: list[str] = field(default_factory=list)
    must_not_say: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """``call`` | ``none`` | ``ask`` | ``refuse``: what a correct turn does."""
        if self.refuse:
            return "refuse"
        if self.ask:
            return "ask"
        return "call" if self.calls else "none"

    @property
    def expected_calls(self) -> list[ExpectedCall]:
        return list(self.calls or [])


@dataclass
class Conversation:
    id: str
    category: str
    lang: str
    role: str
    turns: list[Turn]
    file: str
    line: int


@dataclass
class ConversationSet:
    split: str
    version: int
    companies: list[str]
    conversations: list[Conversation]
    path: Path

    @property
    def n_turns(self) -> int:
        return sum(len(c.turns) for c in self.conversations)


@dataclass
class Question:
    id: str
    lang: str
    type: str
    question: str
    reference: str
    contexts: list[str]
    answerable: bool
    line: int


@dataclass
class QuestionSet:
    split: str
    version: int
    questions: list[Question]
    path: Path


# -- YAML with line numbers --------------------------------------------------------------
class _LineLoader(SafeLoader):
    """A safe loader that records each mapping's 1-based line under ``__line__``."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(path, None, f"não foi possível ler o arquivo: {exc}") from exc
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        where = ""
        if exc.context and exc.context_mark is not None and exc.context_mark.line + 1 != line:
            where = f" ({exc.context}, que começa na linha {exc.context_mark.line + 1})"
        raise DatasetError(path, line, f"YAML inválido: {exc.problem or exc}{where}") from exc
    except yaml.YAMLError as exc:
        raise DatasetError(path, None, f"YAML inválido: {exc}") from exc


def _line(node: Any, default: int | None = None) -> int | None:
    return node.get("__line__", default) if isinstance(node, dict) else default


def _keys(node: dict[str, Any]) -> set[str]:
    return {k for k in node if k != "__line__"}


def _strip(value: Any) -> Any:
    """Drop the ``__line__`` bookkeeping from a loaded value (argument values)."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k != "__line__"}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def tool_parameters() -> dict[str, set[str]]:
    """Argument names the model may fill, per tool, from the assistant's real tool schemas."""
    from app.agent.tools import ToolDeps, ToolRunner, make_tools

    runner = ToolRunner(make_tools(ToolDeps(sizing=None, catalog=None, searcher=None)))  # type: ignore[arg-type]
    return {s["function"]["name"]: set(s["function"]["parameters"].get("properties", {})) for s in runner.specs}


# -- conversations -----------------------------------------------------------------------
def _str_list(path: Path, node: dict, key: str, allowed: tuple[str, ...] | None = None) -> list[str]:
    value = node.get(key, [])
    line = _line(node)
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise DatasetError(path, line, f"'{key}' deve ser uma lista de textos")
    if allowed is not None:
        for v in value:
            if v not in allowed:
                raise DatasetError(path, line, f"'{key}': valor desconhecido '{v}' (use: {', '.join(allowed)})")
    return list(value)


def _check_value(path: Path, line: int | None, where: str, value: Any, companies: list[str]) -> None:
    if isinstance(value, bool) or isinstance(value, (int, float)):
        return
    if isinstance(value, str):
        for name in _COMPANY.findall(value):
            if name not in companies:
                raise DatasetError(path, line, f"{where}: empresa '$company.{name}' não declarada em 'companies'")
        if value.startswith("$") and value != CAPEX and not _COMPANY.fullmatch(value):
            raise DatasetError(path, line, f"{where}: marcador desconhecido '{value}' (use {CAPEX} ou $company.<nome>)")
        return
    if isinstance(value, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return
    if isinstance(value, dict) and value:  # an object argument (a quote's customer): each field as above
        for key, inner in value.items():
            _check_value(path, line, f"{where}.{key}", inner, companies)
        return
    raise DatasetError(path, line, f"{where}: valor de tipo não suportado {value!r}")


def _parse_calls(path: Path, node: dict, params: dict[str, set[str]], companies: list[str], where: str):
    raw = node.get("calls")
    line = _line(node)
    if not isinstance(raw, list):
        raise DatasetError(path, line, f"{where}: 'calls' deve ser uma lista ([] = nenhuma chamada)")
    calls = []
    for call in raw:
        cline = _line(call, line)
        if not isinstance(call, dict) or _keys(call) - {"tool", "args"} or "tool" not in call:
            raise DatasetError(path, cline, f"{where}: cada chamada é {{tool: <nome>, args: {{…}}}}")
        tool = call["tool"]
        if tool not in params:
            raise DatasetError(path, cline, f"{where}: ferramenta desconhecida '{tool}' (use: {', '.join(sorted(params))})")
        args = call.get("args") or {}
        if not isinstance(args, dict):
            raise DatasetError(path, cline, f"{where}: 'args' de {tool} deve ser um mapa")
        args = _strip(args)
        allowed = params[tool] | set(FUTURE_ARGS.get(tool, ()))
        for key, value in args.items():
            if key not in allowed:
                raise DatasetError(path, cline, f"{where}: argumento '{key}' não existe em {tool} "
                                                f"(nem em FUTURE_ARGS); use: {', '.join(sorted(allowed))}")
            _check_value(path, cline, f"{where}: {tool}.{key}", value, companies)
        calls.append(ExpectedCall(tool, args))
    return calls


def _parse_turn(path: Path, node: Any, params: dict[str, set[str]], companies: list[str], where: str,
                fallback_line: int) -> Turn:
    if not isinstance(node, dict):
        raise DatasetError(path, fallback_line, f"{where}: um turno é um mapa com 'user' e o esperado")
    line = _line(node, fallback_line)
    unknown = _keys(node) - {"user", "calls", "ask", "known", "refuse", "forbid", "must_not_say", "facts"}
    if unknown:
        raise DatasetError(path, line, f"{where}: chave(s) desconhecida(s): {', '.join(sorted(unknown))}")
    user = node.get("user")
    if not isinstance(user, str) or not user.strip():
        raise DatasetError(path, line, f"{where}: 'user' (a mensagem) é obrigatório")
    _check_value(path, line, f"{where}: user", user, companies)
    given = [k for k in ("calls", "ask", "refuse") if k in node]
    if len(given) != 1:
        raise DatasetError(path, line, f"{where}: informe exatamente um de calls / ask / refuse (achei: {given or 'nenhum'})")
    turn = Turn(user=user, line=line)
    if "calls" in node:
        turn.calls = _parse_calls(path, node, params, companies, where)
    if "ask" in node:
        turn.ask = _str_list(path, node, "ask", SLOTS)
        if not turn.ask:
            raise DatasetError(path, line, f"{where}: 'ask' precisa de pelo menos um slot")
    if "refuse" in node:
        if node["refuse"] not in REFUSALS:
            raise DatasetError(path, line, f"{where}: 'refuse' deve ser um de {', '.join(REFUSALS)}")
        turn.refuse = node["refuse"]
    turn.known = _str_list(path, node, "known", SLOTS)
    turn.forbid = _str_list(path, node, "forbid", tuple(sorted(params)))
    turn.must_not_say = [str(v) for v in _str_list(path, node, "must_not_say")]
    turn.facts = [str(v) for v in _str_list(path, node, "facts")]
    if set(turn.known) & set(turn.ask or []):
        raise DatasetError(path, line, f"{where}: um slot não pode estar em 'ask' e em 'known'")
    return turn


def _header(path: Path, data: Any, items_key: str) -> tuple[int, str, list]:
    if not isinstance(data, dict):
        raise DatasetError(path, 1, f"o arquivo deve ser um mapa com version, split e {items_key}")
    version, split, items = data.get("version"), data.get("split"), data.get(items_key)
    if not isinstance(version, int) or isinstance(version, bool):
        raise DatasetError(path, _line(data), "'version' (inteiro) é obrigatório")
    if split not in SPLITS:
        raise DatasetError(path, _line(data), f"'split' deve ser um de {', '.join(SPLITS)}")
    if path.stem in SPLITS and path.stem != split:
        raise DatasetError(path, _line(data), f"split '{split}' num arquivo chamado {path.name}")
    if not isinstance(items, list) or not items:
        raise DatasetError(path, _line(data), f"'{items_key}' deve ser uma lista não vazia")
    return version, split, items


def load_conversations(path: Path, params: dict[str, set[str]] | None = None) -> ConversationSet:
    """Read and validate one conversation file (see the README for the format)."""
    params = params or tool_parameters()
    data = _read_yaml(path)
    version, split, items = _header(path, data, "conversations")
    companies = data.get("companies", [])
    if not isinstance(companies, list) or not all(isinstance(c, str) for c in companies):
        raise DatasetError(path, _line(data), "'companies' deve ser uma lista de nomes")
    seen: set[str] = set()
    conversations = []
    for i, conv in enumerate(items):
        cline = _line(conv, _line(data))
        if not isinstance(conv, dict):
            raise DatasetError(path, cline, f"conversa {i + 1}: deve ser um mapa")
        cid = conv.get("id")
        if not isinstance(cid, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", cid or ""):
            raise DatasetError(path, cline, f"conversa {i + 1}: 'id' ausente ou inválido (minúsculas, dígitos, - e _)")
        if cid in seen:
            raise DatasetError(path, cline, f"id repetido '{cid}'")
        seen.add(cid)
        unknown = _keys(conv) - {"id", "category", "lang", "role", "turns"}
        if unknown:
            raise DatasetError(path, cline, f"'{cid}': chave(s) desconhecida(s): {', '.join(sorted(unknown))}")
        if conv.get("category") not in CATEGORIES:
            raise DatasetError(path, cline, f"'{cid}': 'category' deve ser um de {', '.join(CATEGORIES)}")
        if conv.get("lang") not in LANGS:
            raise DatasetError(path, cline, f"'{cid}': 'lang' deve ser pt ou en")
        role = conv.get("role", "widget")
        if role not in ROLES:
            raise DatasetError(path, cline, f"'{cid}': 'role' deve ser um de {', '.join(ROLES)}")
        turns_raw = conv.get("turns")
        if not isinstance(turns_raw, list) or not turns_raw:
            raise DatasetError(path, cline, f"'{cid}': 'turns' deve ser uma lista não vazia")
        turns = [_parse_turn(path, t, params, companies, f"turno {j + 1} de '{cid}'", cline)
                 for j, t in enumerate(turns_raw)]
        conversations.append(Conversation(cid, conv["category"], conv["lang"], role, turns, path.name, cline))
    return ConversationSet(split, version, companies, conversations, path)


# -- knowledge QA --------------------------------------------------------------------------
def load_questions(path: Path) -> QuestionSet:
    """Read and validate one knowledge-QA file."""
    data = _read_yaml(path)
    version, split, items = _header(path, data, "questions")
    seen: set[str] = set()
    questions = []
    for i, q in enumerate(items):
        line = _line(q, _line(data))
        if not isinstance(q, dict):
            raise DatasetError(path, line, f"pergunta {i + 1}: deve ser um mapa")
        qid = q.get("id")
        if not isinstance(qid, str) or not qid:
            raise DatasetError(path, line, f"pergunta {i + 1}: 'id' é obrigatório")
        if qid in seen:
            raise DatasetError(path, line, f"id repetido '{qid}'")
        seen.add(qid)
        unknown = _keys(q) - {"id", "lang", "type", "question", "reference", "contexts", "answerable"}
        if unknown:
            raise DatasetError(path, line, f"'{qid}': chave(s) desconhecida(s): {', '.join(sorted(unknown))}")
        if q.get("lang") not in LANGS:
            raise DatasetError(path, line, f"'{qid}': 'lang' deve ser pt ou en")
        if q.get("type") not in QA_TYPES:
            raise DatasetError(path, line, f"'{qid}': 'type' deve ser um de {', '.join(QA_TYPES)}")
        for key in ("question", "reference"):
            if not isinstance(q.get(key), str) or not q[key].strip():
                raise DatasetError(path, line, f"'{qid}': '{key}' (texto) é obrigatório")
        contexts = q.get("contexts")
        if not isinstance(contexts, list) or not all(isinstance(c, str) and c for c in contexts):
            raise DatasetError(path, line, f"'{qid}': 'contexts' deve ser uma lista de chaves de documento")
        answerable = q.get("answerable", True)
        if not isinstance(answerable, bool):
            raise DatasetError(path, line, f"'{qid}': 'answerable' deve ser true ou false")
        if answerable != bool(contexts):
            raise DatasetError(path, line, f"'{qid}': pergunta respondível precisa de contexts; sem resposta, contexts: []")
        if (q["type"] == "unanswerable") == answerable:
            raise DatasetError(path, line, f"'{qid}': type unanswerable ⇔ answerable: false")
        questions.append(Question(qid, q["lang"], q["type"], q["question"], q["reference"], list(contexts),
                                  answerable, line))
    return QuestionSet(split, version, questions, path)


def known_document_keys(root: Path) -> set[str]:
    """Every document key the corpus under ``root`` (data/knowledge) can produce, except
    catalog keys: files relative to root and ``credit_lines.yaml#<id>`` entries."""
    keys = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    lines = root / "financing" / "credit_lines.yaml"
    if lines.exists():
        data = load_yaml(lines.read_text(encoding="utf-8")) or {}
        for entry in data.get("credit_lines", []):
            keys.add(f"financing/credit_lines.yaml#{entry['id']}")
    return keys


def conversation_path(split: str, root: Path = DATASETS_DIR) -> Path:
    return root / "conversations" / f"{split}.yaml"


def knowledge_path(split: str, root: Path = DATASETS_DIR) -> Path:
    return root / "knowledge" / f"{split}.yaml"
