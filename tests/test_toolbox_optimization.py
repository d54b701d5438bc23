"""The chapter 11 toolbox: airfoil data in the book's format and the book's training loops."""

import torch

import course
from course import optimization


def test_generated_airfoil_file_is_read_through_the_loader(tmp_path):
    path = optimization.airfoil_path(tmp_path)
    assert path.is_file() and path == optimization.airfoil_path(tmp_path)
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert len(first.split("\t")) == 6
    rows = optimization.read_airfoil(path)
    assert rows.shape == (1503, 6) and rows.dtype == torch.float32
    data_iter, feature_dim = course.get_data_ch11(batch_size=10, n=1500, path=path)
    assert feature_dim == 5
    X, y = next(iter(data_iter))
    assert X.shape == (10, 5) and y.shape == (10,)
    assert len(data_iter) == 150


def test_book_file_wins_and_columns_are_standardised(tmp_path):
    book = tmp_path / optimization.BOOK_FILE
    book.write_text("1 2 3 4 5 6\n3   4\t5 6 7 9\n", encoding="utf-8")
    assert optimization.airfoil_path(tmp_path) == book
    data_iter, _ = course.get_data_ch11(batch_size=2, n=2, path=book)
    X, y = next(iter(data_iter))
    assert torch.allclose(X.abs(), torch.ones(2, 5)) and torch.allclose(y.abs(), torch.ones(2))


def _sgd(params, states, hyperparams):
    with torch.no_grad():
        for p in params:
            p -= hyperparams["lr"] * p.grad
            p.grad.zero_()


def test_train_loops_reduce_the_loss(tmp_path):
    data_iter, feature_dim = course.get_data_ch11(10, path=optimization.airfoil_path(tmp_path))
    torch.manual_seed(0)
    times, losses = course.train_ch11(_sgd, None, {"lr": 0.05}, data_iter, feature_dim,
                                      num_epochs=1, show=False)
    assert len(losses) == 7 and len(times) == 7 and losses[-1] < 0.45
    times, losses = course.train_concise_ch11(torch.optim.SGD, {"lr": 0.05}, data_iter,
                                              num_epochs=1, show=False)
    assert len(losses) == 7 and losses[-1] < 0.45
