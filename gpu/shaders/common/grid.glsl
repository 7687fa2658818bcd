// Indexing over a 2-D grid of workgroups: ops dispatch more groups than one dimension allows
// (maxComputeWorkGroupCount[0] may be 65535) as rows of a grid, and the shader reads back the linear
// index (gpu/ops/op_support.h: dispatch_rows, dispatch_elements). Indices past the end are the
// shader's to skip, uniformly per workgroup for group_index().
#ifndef LOWBIT_COMMON_GRID_GLSL
#define LOWBIT_COMMON_GRID_GLSL

// The linear index of this workgroup.
uint group_index() { return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x; }

// The linear index of this invocation: group_index() · local_size_x + local x.
uint element_index() { return group_index() * gl_WorkGroupSize.x + gl_LocalInvocationID.x; }

#endif  // LOWBIT_COMMON_GRID_GLSL
