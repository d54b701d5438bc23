"""The student toolbox of d2l-course: what the notebooks use beyond the exercises.

Nothing here is solution code: helpers that a chapter asks students to build are written with
library ops and are locked (``course.gating``) while that chapter is graded. Heavy libraries
(matplotlib, torchvision, scikit-learn) are imported only when a function needs them.
"""

from course.checking import check
from course.data import (
    digits_images,
    get_fashion_mnist_labels,
    house_tiny_csv,
    load_array,
    load_data_fashion_mnist,
    synthetic_regression,
)
from course.gating import ToolboxLocked
from course.plot import Animator, plot, set_axes, set_figsize, show_images
from course.train import (
    accuracy,
    cross_entropy_loss,
    evaluate_accuracy,
    evaluate_accuracy_gpu,
    sgd,
    train_ch3,
    train_ch6,
    train_epoch_ch3,
)
from course.utils import Accumulator, Timer, try_all_gpus, try_gpu

__all__ = [
    "check",
    "Accumulator",
    "Animator",
    "Timer",
    "ToolboxLocked",
    "accuracy",
    "cross_entropy_loss",
    "digits_images",
    "evaluate_accuracy",
    "evaluate_accuracy_gpu",
    "get_fashion_mnist_labels",
    "house_tiny_csv",
    "load_array",
    "load_data_fashion_mnist",
    "plot",
    "set_axes",
    "set_figsize",
    "sgd",
    "show_images",
    "synthetic_regression",
    "train_ch3",
    "train_ch6",
    "train_epoch_ch3",
    "try_all_gpus",
    "try_gpu",
]
