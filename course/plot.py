"""Plotting helpers from the book, headless-safe.

matplotlib is imported only when a plot is made, with whatever backend is active: inline in
JupyterLab, ``Agg`` in tests and scripts (``MPLBACKEND=Agg``). In a notebook the ``Animator``
redraws its figure in place through ``IPython.display``; elsewhere it just updates the figure,
which ``Animator.save(path)`` writes to a file.
"""

from __future__ import annotations

from collections.abc import Sequence

from course.utils import notices_of_this_cell


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _in_notebook() -> bool:
    """Whether we run inside a Jupyter kernel (where figures can be displayed inline)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def set_figsize(figsize: tuple[float, float] = (3.5, 2.5)) -> None:
    """Set the default size of new matplotlib figures (inches)."""
    _plt().rcParams["figure.figsize"] = figsize


def set_axes(axes, xlabel=None, ylabel=None, xlim=None, ylim=None, xscale="linear",
             yscale="linear", legend=None) -> None:
    """Configure one matplotlib ``Axes``: labels, limits, scales, legend and grid."""
    if xlabel:
        axes.set_xlabel(xlabel)
    if ylabel:
        axes.set_ylabel(ylabel)
    axes.set_xscale(xscale)
    axes.set_yscale(yscale)
    if xlim:
        axes.set_xlim(xlim)
    if ylim:
        axes.set_ylim(ylim)
    if legend:
        axes.legend(legend)
    axes.grid()


def _has_one_axis(X) -> bool:
    return (hasattr(X, "ndim") and X.ndim == 1) or (
        isinstance(X, list) and not hasattr(X[0], "__len__"))


def _plain(values):
    if hasattr(values, "detach"):
        return values.detach().cpu().numpy()
    return values


def plot(X, Y=None, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None,
         xscale="linear", yscale="linear", fmts=("-", "m--", "g-.", "r:"), figsize=(3.5, 2.5),
         axes=None):
    """Plot one or more curves like the book's ``d2l.plot``; return the ``Axes``.

    ``X`` (and ``Y``) may be lists, numpy arrays or tensors; with ``Y`` omitted, ``X`` holds
    the y-values and the x-values are their indices.
    """
    plt = _plt()
    if legend is None:
        legend = []
    if axes is None:
        _, axes = plt.subplots(figsize=figsize)
    X, Y = _plain(X), _plain(Y)
    if _has_one_axis(X):
        X = [X]
    if Y is None:
        X, Y = [[] for _ in range(len(X))], X
    elif _has_one_axis(Y):
        Y = [Y]
    if len(X) != len(Y):
        X = X * len(Y)
    axes.cla()
    for x, y, fmt in zip(X, Y, fmts):
        y = _plain(y)
        if len(x):
            axes.plot(_plain(x), y, fmt)
        else:
            axes.plot(y, fmt)
    set_axes(axes, xlabel, ylabel, xlim, ylim, xscale, yscale, legend)
    return axes


def show_images(imgs, num_rows: int, num_cols: int, titles: Sequence[str] | None = None,
                scale: float = 1.5):
    """Show a grid of images (tensors or arrays of shape (H, W)); return the axes."""
    plt = _plt()
    figsize = (num_cols * scale, num_rows * scale)
    _, axes = plt.subplots(num_rows, num_cols, figsize=figsize, squeeze=False)
    axes = axes.flatten()
    for i, (ax, img) in enumerate(zip(axes, imgs)):
        ax.imshow(_plain(img))
        ax.axes.get_xaxis().set_visible(False)
        ax.axes.get_yaxis().set_visible(False)
        if titles:
            ax.set_title(titles[i])
    return axes


class Animator:
    """Plot data incrementally, like the book's ``d2l.Animator``.

    ``add(x, y)`` appends one point to each curve (``y`` a number or a list, one per curve;
    ``None`` skips a curve) and redraws. In a Jupyter kernel the figure is redisplayed in
    place; headless it is only updated. ``save(path)`` writes the current figure.
    """

    def __init__(self, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None,
                 xscale="linear", yscale="linear", fmts=("-", "m--", "g-.", "r:"), nrows=1,
                 ncols=1, figsize=(3.5, 2.5), display: bool | None = None):
        plt = _plt()
        if legend is None:
            legend = []
        self.fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
        self.axes = list(axes.flatten())
        self.config_axes = lambda: set_axes(self.axes[0], xlabel, ylabel, xlim, ylim, xscale,
                                            yscale, legend)
        self.X: list[list] | None = None
        self.Y: list[list] | None = None
        self.fmts = fmts
        self.display = _in_notebook() if display is None else display

    def add(self, x, y) -> None:
        """Append the point(s) and redraw."""
        if not hasattr(y, "__len__"):
            y = [y]
        n = len(y)
        if not hasattr(x, "__len__"):
            x = [x] * n
        if not self.X:
            self.X = [[] for _ in range(n)]
        if not self.Y:
            self.Y = [[] for _ in range(n)]
        for i, (a, b) in enumerate(zip(x, y)):
            if a is not None and b is not None:
                self.X[i].append(float(a))
                self.Y[i].append(float(b))
        self.axes[0].cla()
        for xs, ys, fmt in zip(self.X, self.Y, self.fmts):
            self.axes[0].plot(xs, ys, fmt)
        self.config_axes()
        if self.display:
            from IPython import display

            # Replace the cell's output when the new figure arrives (not at the next print, which
            # would lose the figure), and repeat the cell's data notices under it.
            display.clear_output(wait=True)
            display.display(self.fig)
            for message in notices_of_this_cell():
                print(message)
        else:
            self.fig.canvas.draw_idle()

    def save(self, path) -> None:
        """Write the current figure to ``path`` (format from the suffix: .png, .svg, .pdf)."""
        self.fig.savefig(path)

    def close(self) -> None:
        """Release the figure (useful in scripts that make many plots)."""
        _plt().close(self.fig)
