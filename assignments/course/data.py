"""Data for the notebooks: array loaders, Fashion-MNIST with an offline fallback, small generators.

Nothing is downloaded unless a function is asked to (``download=True``). Fashion-MNIST is read
with torchvision from ``root`` (default: ``$D2L_COURSE_DATA`` or ``~/.d2l-course/data``) when its
files are there; otherwise ``load_data_fashion_mnist`` falls back to scikit-learn's bundled 8x8
digits images, resized to 28x28, and says so.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch.utils import data

from course.gating import exercise_of
from course.utils import notice

FASHION_MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                       "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
FASHION_MNIST_LABELS = ("t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
                        "sneaker", "bag", "ankle boot")


def data_root(root: str | os.PathLike | None = None) -> Path:
    """Where data sets live: ``root``, else ``$D2L_COURSE_DATA``, else ``~/.d2l-course/data``."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("D2L_COURSE_DATA")
    return Path(env).expanduser() if env else Path.home() / ".d2l-course" / "data"


def load_array(data_arrays, batch_size: int, is_train: bool = True) -> data.DataLoader:
    """A PyTorch ``DataLoader`` over tensors (``TensorDataset``), shuffled when ``is_train``."""
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=is_train, num_workers=0)


def get_fashion_mnist_labels(labels) -> list[str]:
    """The text labels of Fashion-MNIST class indices (an iterable of ints or a tensor)."""
    return [FASHION_MNIST_LABELS[int(i)] for i in labels]


def fashion_mnist_available(root: str | os.PathLike | None = None) -> bool:
    """Whether the four uncompressed Fashion-MNIST files are under ``root/FashionMNIST/raw``."""
    raw = data_root(root) / "FashionMNIST" / "raw"
    return all((raw / name).is_file() for name in FASHION_MNIST_FILES)


def digits_images(size: int = 28) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's bundled handwritten digits as ``(images, labels)``.

    ``images``: float32 of shape ``(1797, 1, size, size)`` in [0, 1] (the 8x8 originals resized
    with bilinear interpolation); ``labels``: int64 of shape ``(1797,)``, classes 0-9.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    if size != 8:
        images = torch.nn.functional.interpolate(images, size=(size, size), mode="bilinear",
                                                 align_corners=False).clamp_(0.0, 1.0)
    labels = torch.tensor(digits.target, dtype=torch.int64)
    return images, labels


def _digits_split(size: int, n_test: int = 360):
    images, labels = digits_images(size)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
    test, train = order[:n_test], order[n_test:]
    return (images[train], labels[train]), (images[test], labels[test])


def load_data_fashion_mnist(batch_size: int, resize: int | None = None,
                            root: str | os.PathLike | None = None, download: bool = False,
                            verbose: bool = True):
    """``(train_iter, test_iter)`` DataLoaders of Fashion-MNIST, like the book's.

    Images are float32 of shape ``(batch, 1, 28, 28)`` in [0, 1] (``resize`` pixels square if
    given), labels int64 in 0-9. Reads Fashion-MNIST with torchvision when its files exist under
    ``root`` (see ``data_root``) or when ``download=True``; otherwise uses scikit-learn's
    digits images (1437 for training, 360 for testing, a fixed split). The source used is
    printed and stored in ``load_data_fashion_mnist.last_source`` (``"fashion-mnist"`` or
    ``"digits"``) and in the loaders' ``source`` attribute.
    """
    where = data_root(root)
    if download or fashion_mnist_available(where):
        from torchvision import datasets, transforms

        trans = [transforms.ToTensor()]
        if resize:
            trans.insert(0, transforms.Resize(resize))
        trans = transforms.Compose(trans)
        train = datasets.FashionMNIST(root=str(where), train=True, transform=trans,
                                      download=download)
        test = datasets.FashionMNIST(root=str(where), train=False, transform=trans,
                                     download=download)
        source = "fashion-mnist"
        message = f"Fashion-MNIST from {where}"
    else:
        size = resize or 28
        (train_x, train_y), (test_x, test_y) = _digits_split(size)
        train = data.TensorDataset(train_x, train_y)
        test = data.TensorDataset(test_x, test_y)
        source = "digits"
        message = (f"scikit-learn's digits images ({size}x{size}); Fashion-MNIST was not found "
                   f"under {where} (pass download=True or set D2L_COURSE_DATA to use it)")
    loaders = (data.DataLoader(train, batch_size, shuffle=True, num_workers=0),
               data.DataLoader(test, batch_size, shuffle=False, num_workers=0))
    for loader in loaders:
        loader.source = source
    load_data_fashion_mnist.last_source = source
    if verbose:
        notice(f"load_data_fashion_mnist: using {message}")
    return loaders


load_data_fashion_mnist.last_source = None


@exercise_of("ch03")
def synthetic_regression(w, b, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``(X, y)`` with ``y = Xw + b + noise`` (noise std 0.01), reproducible from ``seed``.

    ``X`` has shape ``(n, len(w))``, ``y`` shape ``(n, 1)``, default float dtype. The library
    version of ch03's ``synthetic_data``.
    """
    gen = torch.Generator().manual_seed(seed)
    w = torch.as_tensor(w, dtype=torch.get_default_dtype())
    X = torch.randn(n, len(w), generator=gen)
    y = X @ w + b + 0.01 * torch.randn(n, generator=gen)
    return X, y.reshape(-1, 1)


HOUSE_TINY = "NumRooms,Alley,Price\nNA,Pave,127500\n2,NA,106000\n4,NA,178100\nNA,NA,140000\n"


def house_tiny_csv(path: str | os.PathLike = "house_tiny.csv") -> Path:
    """Write the book's tiny house-price table (with missing values) to ``path``; return it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HOUSE_TINY, encoding="utf-8")
    return path


# --- rule-based English-French pairs for the translation chapters ---------------------------------

_PERSONS = (  # English subject, French subject, English "be", conjugation column, feminine
    ("i", "je", "am", 0, False), ("you", "tu", "are", 1, False), ("he", "il", "is", 2, False),
    ("she", "elle", "is", 2, True), ("we", "nous", "are", 3, False),
    ("they", "ils", "are", 4, False))
_ETRE = ("suis", "es", "est", "sommes", "sont")
_ADJECTIVES = {  # English: French masculine, feminine, masculine plural
    "cold": ("froid", "froide", "froids"), "tired": ("fatigué", "fatiguée", "fatigués"),
    "happy": ("heureux", "heureuse", "heureux"), "sad": ("triste", "triste", "tristes"),
    "ready": ("prêt", "prête", "prêts"), "calm": ("calme", "calme", "calmes"),
    "busy": ("occupé", "occupée", "occupés"), "sick": ("malade", "malade", "malades"),
    "small": ("petit", "petite", "petits"), "tall": ("grand", "grande", "grands"),
}
_VERBS = {  # English infinitive: English third person singular, French present tense
    "see": ("sees", ("vois", "vois", "voit", "voyons", "voient")),
    "like": ("likes", ("aime", "aimes", "aime", "aimons", "aiment")),
    "want": ("wants", ("veux", "veux", "veut", "voulons", "veulent")),
    "have": ("has", ("ai", "as", "a", "avons", "ont")),
    "eat": ("eats", ("mange", "manges", "mange", "mangeons", "mangent")),
}
_OBJECTS = {"the cat": "le chat", "the dog": "le chien", "the car": "la voiture",
            "the book": "le livre", "the apple": "la pomme", "the house": "la maison",
            "a cat": "un chat", "a book": "un livre"}
_VOWELS = tuple("aeiouyéh")


def _elide(words: list[str]) -> str:
    """French elision: ``je``/``ne`` before a vowel become ``j'``/``n'`` joined to the word."""
    out: list[str] = []
    for word in words:
        if out and out[-1] in ("je", "ne") and word.startswith(_VOWELS):
            out[-1] = out[-1][0] + "'" + word
        else:
            out.append(word)
    return " ".join(out)


def _sentence(words: str, end: str, french: bool) -> str:
    """Capitalised, with the book's file's punctuation: French puts a narrow no-break space
    before ``!`` and ``?``."""
    text = words[0].upper() + words[1:]
    if french and end in "!?":
        return text + "\u202f" + end
    return text + end


def translation_pairs(seed: int = 0) -> list[tuple[str, str]]:
    """Every English-French sentence pair of a small rule-based grammar, shuffled by ``seed``.

    Sentences have a subject (six persons), a form of *to be* with an adjective that agrees in
    gender and number (``She is tired.`` / ``Elle est fatiguée.``) or one of five verbs with an
    object (``We see the cat.`` / ``Nous voyons le chat.``), each also negated (``ne ... pas``,
    with French elision), and end in ``.`` or, for exclamations, ``!``. Written as in the book's
    ``fra.txt`` (capitalised, punctuation attached to the word, a narrow no-break space before
    French ``!``). About 600 pairs, learnable by a small seq2seq model in a minute.
    """
    pairs = []
    for eng_subj, fra_subj, be, column, feminine in _PERSONS:
        plural = column >= 3
        for negated in (False, True):
            for adjective, forms in _ADJECTIVES.items():
                fra_adj = forms[2] if plural else forms[1] if feminine else forms[0]
                eng = f"{eng_subj} {be} {'not ' if negated else ''}{adjective}"
                fra = [fra_subj] + (["ne", _ETRE[column], "pas"] if negated else [_ETRE[column]])
                end = "!" if adjective in ("happy", "ready") and not negated else "."
                pairs.append((_sentence(eng, end, False), _sentence(_elide(fra + [fra_adj]), end,
                                                                     True)))
            for verb, (third, french) in _VERBS.items():
                for obj, fra_obj in _OBJECTS.items():
                    if column == 2:
                        eng_verb = f"does not {verb}" if negated else third
                    else:
                        eng_verb = f"do not {verb}" if negated else verb
                    fra = [fra_subj] + (["ne", french[column], "pas"] if negated
                                        else [french[column]])
                    if negated and fra_obj.startswith(("un ", "une ")):
                        fra_obj = "de " + fra_obj.split(" ", 1)[1]
                    pairs.append((_sentence(f"{eng_subj} {eng_verb} {obj}", ".", False),
                                  _sentence(_elide(fra + fra_obj.split(" ")), ".", True)))
    order = torch.randperm(len(pairs), generator=torch.Generator().manual_seed(seed))
    return [pairs[i] for i in order.tolist()]
