// tg::data (in progress).
#pragma once
