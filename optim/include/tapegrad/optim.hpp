// tg::optim (in progress).
#pragma once
