// Checking Vulkan results: every Vulkan call that returns a VkResult goes through LB_VK_TRY (inside a
// function that returns Expected<T>) or vk_check (where an Expected<void> is wanted as a value), so a
// failure becomes an Error naming the call and the result ("vkAllocateMemory failed:
// VK_ERROR_OUT_OF_DEVICE_MEMORY"). Out-of-memory results map to ErrorCode::OutOfMemory, every other
// failure to ErrorCode::Device. Anything but VK_SUCCESS counts as a failure: a caller that expects
// VK_INCOMPLETE or VK_TIMEOUT handles those codes itself before checking.
#pragma once

#include <vulkan/vulkan.h>

#include "core/util/expected.h"

namespace lowbit::gpu {

// The enumerator's name ("VK_ERROR_DEVICE_LOST"), or "VkResult(<value>)" for one this table lacks.
const char* vk_result_name(VkResult result);

// The Error for a failed call. `call` is the call's text; only the function name (up to the first
// '(') goes into the message.
Unexpected vk_error(VkResult result, const char* call);

inline Expected<void> vk_check(VkResult result, const char* call) {
  if (result == VK_SUCCESS) return {};
  return vk_error(result, call);
}

}  // namespace lowbit::gpu

#define LB_VK_TRY(call)                                                                    \
  do {                                                                                     \
    const VkResult lb_vk_result_ = (call);                                                 \
    if (lb_vk_result_ != VK_SUCCESS) return ::lowbit::gpu::vk_error(lb_vk_result_, #call); \
  } while (0)
