"""Which ATen operators a forbidden name can end in.

An exercise forbids library functionality by name (``"softmax"``, ``"linear"``,
``"torch.nn.Dropout"``). Every route to that functionality (``F.softmax``, ``torch.special``,
``torch.ops.aten._softmax``, ``torch._C._nn``, ``F.softmin`` of the negation, an attention
kernel used as an identity) ends in a few ATen operators; ``operators`` returns them, so that
the sandbox can watch the dispatcher instead of a list of Python names. Only operators that
compute the forbidden functionality are listed: the elementary ops a from-scratch answer needs
(``exp``, ``sum``, ``mm`` inside a softmax or an MLP) never are.

Names are operator names without namespace (``aten::`` and the backend namespaces alike).
"""

from __future__ import annotations

from collections.abc import Iterable

ATTENTION = (
    "scaled_dot_product_attention", "_scaled_dot_product_attention_math",
    "_scaled_dot_product_attention_math_for_mps", "_scaled_dot_product_flash_attention",
    "_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_efficient_attention",
    "_scaled_dot_product_cudnn_attention", "_scaled_dot_product_fused_attention_overrideable",
    "_flash_attention_forward", "_efficient_attention_forward", "_cudnn_attention_forward",
    "_fused_sdp_choice", "_native_multi_head_attention", "_transformer_encoder_layer_fwd",
    "_triton_scaled_dot_attention", "_triton_multi_head_attention",
)
LOG_SOFTMAX = ("log_softmax", "_log_softmax", "special_log_softmax", "_sparse_log_softmax")
# Attention kernels and log-softmax both compute a softmax inside.
SOFTMAX = ("softmax", "_softmax", "special_softmax", "_safe_softmax", "_masked_softmax",
           "_sparse_softmax", "_nested_tensor_softmax_with_shape", *LOG_SOFTMAX, *ATTENTION)
DROPOUT = ("dropout", "dropout_", "feature_dropout", "feature_dropout_", "alpha_dropout",
           "alpha_dropout_", "feature_alpha_dropout", "feature_alpha_dropout_", "native_dropout",
           "_fused_dropout")
CONVOLUTION = (
    "convolution", "_convolution", "_convolution_mode", "conv1d", "conv2d", "conv3d", "conv_tbc",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "convolution_overrideable",
    "mkldnn_convolution", "_convolution_pointwise", "_convolution_pointwise_", "thnn_conv2d",
    "_slow_conv2d_forward", "slow_conv3d", "slow_conv3d_forward", "slow_conv_dilated2d",
    "slow_conv_dilated3d", "slow_conv_transpose2d", "slow_conv_transpose3d",
    "_nnpack_spatial_convolution", "_conv_depthwise2d", "conv_depthwise3d", "cudnn_convolution",
    "cudnn_convolution_relu", "cudnn_convolution_add_relu", "cudnn_convolution_transpose",
    "miopen_convolution", "miopen_convolution_transpose", "miopen_depthwise_convolution",
    "_mps_convolution", "_mps_convolution_transpose",
)
LINEAR = ("linear", "bilinear", "_trilinear", "mkldnn_linear", "_mkl_linear",
          "_mixed_dtypes_linear", "_sparse_semi_structured_linear", "_linear_pointwise",
          "fbgemm_linear_fp16_weight", "fbgemm_linear_fp16_weight_fp32_activation",
          "fbgemm_linear_int8_weight", "fbgemm_linear_int8_weight_fp32_activation")
# Every library matrix product, a convolution (a product in disguise) included.
PRODUCTS = (
    "matmul", "linalg_matmul", "mm", "_int_mm", "mv", "bmm", "dot", "vdot", "inner", "einsum",
    "tensordot", "addmm", "addmm_", "_addmm_activation", "addmv", "addmv_", "addbmm", "addbmm_",
    "baddbmm", "baddbmm_", "chain_matmul", "linalg_multi_dot", "linalg_vecdot", "matrix_power",
    "linalg_matrix_power", "_sparse_mm", "_sparse_addmm", "hspmm", "_scaled_mm", "_grouped_mm",
    "_weight_int8pack_mm", "_weight_int4pack_mm", "_foreach_mm", *LINEAR, *CONVOLUTION,
)
# elu with alpha=0 and hardtanh from 0 are a ReLU too.
RELU = ("relu", "relu_", "threshold", "threshold_", "leaky_relu", "leaky_relu_", "prelu",
        "_prelu_kernel", "rrelu", "rrelu_", "rrelu_with_noise", "rrelu_with_noise_", "hardtanh",
        "hardtanh_", "relu6", "relu6_", "_add_relu", "_add_relu_", "elu", "elu_")
HUBER = ("huber_loss", "smooth_l1_loss")
# A Huber or smooth-L1 loss with a large threshold is a scaled squared loss.
SQUARED = ("mse_loss", *HUBER)
NLL = ("nll_loss", "nll_loss_forward", "nll_loss2d", "nll_loss2d_forward", "nll_loss_nd")
CROSS_ENTROPY = ("cross_entropy_loss", *NLL)
DISTANCE = ("cdist", "_cdist_forward", "_euclidean_dist", "pdist", "_pdist_forward",
            "pairwise_distance", "dist")
MAX_POOL = ("max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
            "max_pool2d_with_indices", "max_pool3d_with_indices", "adaptive_max_pool1d",
            "adaptive_max_pool2d", "adaptive_max_pool3d", "fractional_max_pool2d",
            "fractional_max_pool3d", "mkldnn_max_pool2d", "mkldnn_max_pool3d",
            "quantized_max_pool1d", "quantized_max_pool2d", "quantized_max_pool3d")
# An average is a convolution with a constant kernel.
AVG_POOL = ("avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
            "adaptive_avg_pool3d", "_adaptive_avg_pool2d", "_adaptive_avg_pool3d",
            "mkldnn_adaptive_avg_pool2d", *CONVOLUTION)
RNN = ("_cudnn_rnn", "miopen_rnn", "mkldnn_rnn_layer", "_lstm_mps")
LSTM = ("lstm", "lstm_cell", "_thnn_fused_lstm_cell", "quantized_lstm", "quantized_lstm_cell",
        *RNN)
GRU = ("gru", "gru_cell", "_thnn_fused_gru_cell", "quantized_gru", "quantized_gru_cell", *RNN)
ELMAN = ("rnn_tanh", "rnn_tanh_cell", "rnn_relu", "rnn_relu_cell", *RNN)
BATCH_NORM = ("batch_norm", "native_batch_norm", "_native_batch_norm_legit",
              "_native_batch_norm_legit_no_training", "_native_batch_norm_legit_functional",
              "_batch_norm_impl_index", "_batch_norm_with_update", "_batch_norm_no_update",
              "_batch_norm_with_update_functional", "cudnn_batch_norm", "miopen_batch_norm",
              "batch_norm_elemt", "batch_norm_stats", "instance_norm")
GROUP_NORM = ("group_norm", "native_group_norm")
# One group over all channels is a layer norm.
LAYER_NORM = ("layer_norm", "native_layer_norm", *GROUP_NORM)
EMBEDDING = ("embedding", "embedding_bag", "_embedding_bag", "_embedding_bag_forward_only")
OPTIMIZERS = ("_fused_sgd", "_fused_sgd_", "_fused_adam", "_fused_adam_", "_fused_adamw",
              "_fused_adamw_", "_fused_adagrad", "_fused_adagrad_")

# Each family with the names that select it: the forbidden functionality's own functions,
# operators and classes (never the operators of a different functionality the family lists).
_GROUPS = (
    (SOFTMAX, ("softmax", "_softmax", "special_softmax", "_safe_softmax", "softmin", "Softmax",
               "Softmin", "Softmax2d")),
    (LOG_SOFTMAX, ("log_softmax", "_log_softmax", "special_log_softmax", "LogSoftmax")),
    (DROPOUT, DROPOUT + ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                         "FeatureAlphaDropout")),
    (PRODUCTS, ("matmul", "__matmul__", "__rmatmul__", "linalg_matmul", "mm", "mv", "bmm", "dot",
                "vdot", "inner", "einsum", "tensordot", "addmm", "addmv", "addbmm", "baddbmm",
                "chain_matmul", "multi_dot", "linalg_multi_dot", "linalg_vecdot", "vecdot",
                "matrix_power", "linalg_matrix_power")),
    (LINEAR, ("linear", "Linear", "Bilinear", "LazyLinear", "bilinear")),
    (CONVOLUTION, ("convolution", "_convolution", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                   "conv_transpose2d", "conv_transpose3d", "Conv1d", "Conv2d", "Conv3d",
                   "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")),
    (RELU, ("relu", "relu_", "threshold", "threshold_", "ReLU", "Threshold")),
    (SQUARED, ("mse_loss", "MSELoss")),
    (HUBER, HUBER + ("HuberLoss", "SmoothL1Loss")),
    (CROSS_ENTROPY, ("cross_entropy", "cross_entropy_loss", "CrossEntropyLoss")),
    (NLL, NLL + ("NLLLoss",)),
    (DISTANCE, ("cdist", "_cdist_forward", "_euclidean_dist", "pdist", "_pdist_forward",
                "pairwise_distance", "PairwiseDistance")),
    (MAX_POOL, ("max_pool1d", "max_pool2d", "max_pool3d", "MaxPool1d", "MaxPool2d", "MaxPool3d")),
    (AVG_POOL, ("avg_pool1d", "avg_pool2d", "avg_pool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d")),
    (LSTM, ("lstm", "lstm_cell", "LSTM", "LSTMCell")),
    (GRU, ("gru", "gru_cell", "GRU", "GRUCell")),
    (ELMAN, ("rnn_tanh", "rnn_relu", "rnn_tanh_cell", "rnn_relu_cell", "RNN", "RNNCell")),
    (BATCH_NORM, ("batch_norm", "native_batch_norm", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d",
                  "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d")),
    (LAYER_NORM, ("layer_norm", "native_layer_norm", "LayerNorm")),
    (GROUP_NORM, ("group_norm", "native_group_norm", "GroupNorm")),
    (ATTENTION, ("scaled_dot_product_attention", "multi_head_attention_forward",
                 "MultiheadAttention")),
    (EMBEDDING, ("embedding", "embedding_bag", "Embedding", "EmbeddingBag")),
    (OPTIMIZERS, ("Optimizer", "SGD", "Adam", "AdamW", "Adagrad")),
    (("multinomial",), ("multinomial", "Categorical", "Multinomial", "OneHotCategorical")),
)

FAMILIES: dict[str, frozenset[str]] = {}
for _ops, _names in _GROUPS:
    for _name in _names:
        FAMILIES[_name] = FAMILIES.get(_name, frozenset()) | frozenset(_ops)


def operators(forbid: Iterable[str]) -> frozenset[str]:
    """The operator names that the ``forbid`` entries can end in.

    A bare name (``"softmax"``) or the last part of a dotted one (``"torch.nn.Dropout"``) selects
    its family above; a name without a family stands for the operator of that name
    (``"_cdist_forward"``). Dotted names of plain Python functions (``torch.nn.init.normal_``)
    have no operator of their own: the sandbox watches their code instead.
    """
    found: set[str] = set()
    for entry in forbid:
        dotted = "." in entry
        name = entry.rsplit(".", 1)[-1]
        if name in FAMILIES:
            found |= FAMILIES[name]
        elif not dotted:
            found.add(name)
    return frozenset(found)
