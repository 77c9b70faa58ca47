"""Neural-network building blocks (``shendu.nn``), in PyTorch's names and layouts."""

from . import functional, init, parallel, utils
from .activation import *
from .attention import *
from .conv import *
from .dropout import *
from .embedding import *
from .layers_more import *
from .linear import *
from .loss import *
from .module import *
from .normalization import *
from .parameter import *
from .parameter_containers import *
from .pooling import *
from .upsampling import *
from .recurrent import *
from .sync_batchnorm import *
