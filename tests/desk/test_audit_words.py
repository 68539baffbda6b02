"""The supervisor's audit page and a call's log say what happened in the bank's
Spanish words, never the codes the core stores (those stay in data-
attributes, for whoever matches a row with the database)."""
import re

from tests.desk.test_desk import alphanumeric_call


def visible(html: str) -> str:
    """The page's text as read: no tags, no attributes."""
    return re.sub(r"<[^>]+>", " ", html)


def test_the_audit_log_is_in_words(dial, agent, supervisor):
    alphanumeric_call(dial)
    handoff_id = agent.take()
    agent.connect(handoff_id)
    agent.post(f"/escritorio/llamadas/{handoff_id}/cerrar",
               {"disposicion": "consulta_resuelta", "notas": "dudas"})
    supervisor.get("/escritorio/auditoria")
    text = visible(supervisor.text)
    for words in ("Tomó la llamada", "Se conectó con el cliente", "Cerró la llamada",
                  "resultado: Consulta resuelta", "Entró al escritorio"):
        assert words in text, words
    for code in ("take", "agent_connected", "wrap_up", "consulta_resuelta", "login"):
        assert not re.search(rf"\b{code}\b", text), code
    assert 'data-accion="wrap_up"' in supervisor.text

    call = visible(agent.get(f"/escritorio/llamadas/{handoff_id}").get_data(as_text=True))
    assert "· Tomó la llamada" in call
    assert "· Cerró la llamada · resultado: Consulta resuelta" in call
    assert not re.search(r"\b(take|wrap_up|agent_connected)\b", call)
