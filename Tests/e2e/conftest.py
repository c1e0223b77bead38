import pytest

from harness import Server, temporary_data_dir


@pytest.fixture
def data_dir():
    yield from temporary_data_dir()


@pytest.fixture
def server(data_dir):
    instance = Server(data_dir).start()
    yield instance
    instance.stop()
