
from tests.helpers import check_op, gradcheck


def test_add_mul_matches_torch_with_broadcasting():
    check_op([(3, 4), (4,)], lambda a, b: (a + b) * a)


def test_matmul_gradients_pass_central_differences():
    gradcheck(lambda a, b: a @ b, [(3, 4), (4, 2)])
