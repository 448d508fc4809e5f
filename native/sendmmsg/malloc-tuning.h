#pragma once
#include <node_api.h>
napi_value malloc_tune(napi_env env, napi_callback_info info);
napi_value malloc_trim_(napi_env env, napi_callback_info info);
