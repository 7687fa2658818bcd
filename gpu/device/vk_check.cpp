#include "gpu/device/vk_check.h"

#include <string>
#include <string_view>

namespace lowbit::gpu {

const char* vk_result_name(VkResult result) {
  switch (result) {
#define LB_VK_RESULT_CASE(name) \
  case name:                    \
    return #name;
    LB_VK_RESULT_CASE(VK_SUCCESS)
    LB_VK_RESULT_CASE(VK_NOT_READY)
    LB_VK_RESULT_CASE(VK_TIMEOUT)
    LB_VK_RESULT_CASE(VK_EVENT_SET)
    LB_VK_RESULT_CASE(VK_EVENT_RESET)
    LB_VK_RESULT_CASE(VK_INCOMPLETE)
    LB_VK_RESULT_CASE(VK_ERROR_OUT_OF_HOST_MEMORY)
    LB_VK_RESULT_CASE(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    LB_VK_RESULT_CASE(VK_ERROR_INITIALIZATION_FAILED)
    LB_VK_RESULT_CASE(VK_ERROR_DEVICE_LOST)
    LB_VK_RESULT_CASE(VK_ERROR_MEMORY_MAP_FAILED)
    LB_VK_RESULT_CASE(VK_ERROR_LAYER_NOT_PRESENT)
    LB_VK_RESULT_CASE(VK_ERROR_EXTENSION_NOT_PRESENT)
    LB_VK_RESULT_CASE(VK_ERROR_FEATURE_NOT_PRESENT)
    LB_VK_RESULT_CASE(VK_ERROR_INCOMPATIBLE_DRIVER)
    LB_VK_RESULT_CASE(VK_ERROR_TOO_MANY_OBJECTS)
    LB_VK_RESULT_CASE(VK_ERROR_FORMAT_NOT_SUPPORTED)
    LB_VK_RESULT_CASE(VK_ERROR_FRAGMENTED_POOL)
    LB_VK_RESULT_CASE(VK_ERROR_UNKNOWN)
    LB_VK_RESULT_CASE(VK_ERROR_OUT_OF_POOL_MEMORY)
    LB_VK_RESULT_CASE(VK_ERROR_INVALID_EXTERNAL_HANDLE)
    LB_VK_RESULT_CASE(VK_ERROR_FRAGMENTATION)
    LB_VK_RESULT_CASE(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
    LB_VK_RESULT_CASE(VK_PIPELINE_COMPILE_REQUIRED)
    LB_VK_RESULT_CASE(VK_ERROR_SURFACE_LOST_KHR)
    LB_VK_RESULT_CASE(VK_ERROR_NATIVE_WINDOW_IN_USE_KHR)
    LB_VK_RESULT_CASE(VK_SUBOPTIMAL_KHR)
    LB_VK_RESULT_CASE(VK_ERROR_OUT_OF_DATE_KHR)
    LB_VK_RESULT_CASE(VK_ERROR_INCOMPATIBLE_DISPLAY_KHR)
    LB_VK_RESULT_CASE(VK_ERROR_VALIDATION_FAILED_EXT)
    LB_VK_RESULT_CASE(VK_ERROR_INVALID_SHADER_NV)
    LB_VK_RESULT_CASE(VK_ERROR_NOT_PERMITTED_KHR)
    LB_VK_RESULT_CASE(VK_THREAD_IDLE_KHR)
    LB_VK_RESULT_CASE(VK_THREAD_DONE_KHR)
    LB_VK_RESULT_CASE(VK_OPERATION_DEFERRED_KHR)
    LB_VK_RESULT_CASE(VK_OPERATION_NOT_DEFERRED_KHR)
#undef LB_VK_RESULT_CASE
    default:
      break;
  }
  // Names for codes newer than the headers, kept per thread so the pointer stays valid.
  thread_local std::string unknown;
  unknown = "VkResult(" + std::to_string(static_cast<int>(result)) + ")";
  return unknown.c_str();
}

Unexpected vk_error(VkResult result, const char* call) {
  std::string_view text(call);
  text = text.substr(0, text.find('('));
  const ErrorCode code = (result == VK_ERROR_OUT_OF_HOST_MEMORY || result == VK_ERROR_OUT_OF_DEVICE_MEMORY ||
                          result == VK_ERROR_OUT_OF_POOL_MEMORY)
                             ? ErrorCode::OutOfMemory
                             : ErrorCode::Device;
  return make_error(code, std::string(text) + " failed: " + vk_result_name(result));
}

}  // namespace lowbit::gpu
