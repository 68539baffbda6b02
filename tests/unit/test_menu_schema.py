"""A bad menu file stops start-up with an error naming file, node and problem."""
import pytest

from ivr.menu_schema import MENU_DIR, MenuError, load_menu, parse_menu
from ivr.operations import OPERATIONS
from ivr.prompts import load_prompts

PROMPTS = {"hello", "pick", "bye", "ask"}
OPS = {"lookup"}
GOOD = """
start: hello
defaults: {agent: bye, on_max_attempts: bye}
nodes:
  hello: {type: say, prompt: hello, next: pick}
  pick:
    type: menu
    prompt: pick
    options: {"1": ask, "2": {goto: bye, set: {why: done}}}
  ask:
    type: collect
    prompt: ask
    digits: {min: 1, max: "$limit"}
    store: entry
    next: look
  look: {type: action, operation: lookup, outcomes: {ok: bye, default: pick}}
  bye: {type: hangup, prompt: bye}
"""


def parse(text):
    return parse_menu(text, source="menus/test.yaml", prompts=PROMPTS, operations=OPS)


def test_the_shipped_menu_is_valid():
    prompts = load_prompts()
    menu = load_menu(MENU_DIR / "linea_directa.yaml", prompts=prompts.keys(),
                     operations=set(OPERATIONS))
    assert menu.start == "greeting" and menu.node("pay").operation == "post_payment"


def test_a_good_file_parses():
    menu = parse(GOOD)
    assert menu.node("pick").options["2"].set == {"why": "done"}
    assert menu.node("ask").digits.max == "$limit"


@pytest.mark.parametrize("change, message", [
    (("next: pick", "next: nowhere"), "node 'hello': unknown target 'nowhere'"),
    (("prompt: pick", "prompt: pik"), "node 'pick': missing prompt 'pik'"),
    (('"1": ask, ', ""), "node 'ask' is unreachable"),
    (('digits: {min: 1, max: "$limit"}', "digits: {length: 0}"),
     "node 'ask': digits.length must be between 1 and 40"),
    (('digits: {min: 1, max: "$limit"}', "digits: {min: 5, max: 2}"),
     "node 'ask': digits.min is greater than digits.max"),
    (('digits: {min: 1, max: "$limit"}', "digits: {min: 1}"),
     "node 'ask': digits needs length, or both min and max"),
    (("operation: lookup", "operation: launch"), "node 'look': unknown operation 'launch'"),
    (('{"1": ask,', '{"0": ask,'), "option key '0' must be one of 1-9 or #"),
    (("type: say, prompt: hello", "type: shout, prompt: hello"), "unknown node type 'shout'"),
    (("    store: entry\n", ""), "node 'ask': collect node is missing store"),
    (("start: hello", "start: nope"), "start names unknown node 'nope'"),
    (("type: hangup, prompt: bye", "type: hangup, prompt: bye, colour: red"),
     "node 'bye': hangup node has unknown field(s) colour"),
])
def test_errors_name_the_file_the_node_and_the_problem(change, message):
    old, new = change
    assert old in GOOD
    with pytest.raises(MenuError) as caught:
        parse(GOOD.replace(old, new, 1))
    assert str(caught.value).startswith("menus/test.yaml: ")
    assert message in str(caught.value)


def test_not_yaml_is_said_plainly():
    with pytest.raises(MenuError, match="not valid YAML"):
        parse("nodes: [unclosed")


def test_the_app_refuses_to_start_with_a_bad_menu(tmp_path, monkeypatch):
    from config import Settings
    from ivr import webhooks
    from linea_directa.app import create_app

    bad = tmp_path / "menu.yaml"
    bad.write_text((MENU_DIR / "linea_directa.yaml").read_text()
                   .replace("next: login_method", "next: login_mehtod", 1))
    monkeypatch.setattr(webhooks, "MENU_FILE", bad)
    with pytest.raises(MenuError, match="node 'greeting': unknown target 'login_mehtod'"):
        create_app(Settings.from_env({"IVR_INSTANCE_PATH": str(tmp_path)}))
