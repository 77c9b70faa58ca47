"""Every op as a plain function (``shendu.nn.functional``, usually imported as ``F``)."""

from ..ops import *
from ..ops.activation import *
from ..ops.conv import *
from ..ops.conv_transpose import conv_transpose1d, conv_transpose2d
from ..ops.loss_margin import *
from ..ops.patches import adaptive_max_pool1d, adaptive_max_pool2d, fold, unfold
from ..ops.similarity import cosine_similarity, glu, gumbel_softmax, pairwise_distance, pixel_shuffle, pixel_unshuffle
from .attention import scaled_dot_product_attention
from ..ops.interpolate import interpolate, upsample, upsample_bilinear, upsample_nearest
from ..ops.grid_sample import affine_grid, grid_sample
from ..ops.unpooling import lp_pool1d, lp_pool2d, max_unpool1d, max_unpool2d
from ..ops.dropout import *
from ..ops.embedding import embedding, embedding_bag
from ..ops.loss import *
from ..ops.normalization import *
from ..ops.pooling import *
from ..ops.recurrent import *
