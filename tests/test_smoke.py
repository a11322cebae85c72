from tests.factories import create_case, tiny_network


def test_tiny_network_and_case(session):
    tiny_network(session)
    case = create_case(session)
    session.commit()
    assert case.id
