"""Mistakes shendu's hints let a type checker catch (tests/test_typing.py expects one error per marked line)."""

import shendu
import shendu.nn as nn
import shendu.optim as optim

layer = nn.Linear("784", 10)  # error: arg-type
optimizer = optim.SGD(layer.parameters(), lr="fast")  # error: arg-type
ones = shendu.ones(2, 3, requires_grad="yes")  # error: arg-type
total: str = ones.sum()  # error: assignment
