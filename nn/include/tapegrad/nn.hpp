// tg::nn (in progress).
#pragma once
