"""A caller who chose English hears the line, the hand-off and the NIP
verification in English; the agent's softphone stays in the bank's language."""
from tests.desk.test_desk import handoffs


def test_an_english_caller_waits_and_verifies_in_english(dial, agent, bank):
    first, second = dial(), dial()
    first.press("9")
    heard = first.press("0")
    assert "We are transferring you to an agent." in heard.text
    assert "You are next in line." in heard.text
    second.press("0")  # a Spanish caller behind: the line speaks to each in their language
    assert "Su lugar en la fila es el 2" in second.last.text
    handoff_id = agent.take()
    assert handoff_id == handoffs(bank)[0].id
    leg = agent.connect(handoff_id)
    assert leg.talking_to() == {first.leg}
    agent.post(f"/escritorio/llamadas/{handoff_id}/verificar",
               {"metodo": "card", "numero": "4152310000000001"})
    assert "enter the 4-digit PIN of your card ending in zero zero zero one. " \
           "Your agent will not hear it." in first.last.text
    heard = first.press("2468")
    assert "Thank you, your identity is verified." in heard.text
    assert leg.talking_to() == {first.leg}
