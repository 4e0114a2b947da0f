#include "common/exit_codes.h"

#include <gtest/gtest.h>

namespace llmload {
namespace {

TEST(ExitCodes, PriorityOrderIsInternalUsageAbortedIncompleteAssertion) {
  EXPECT_EQ(combine_exit_codes(kExitAssertion, kExitIncomplete), kExitIncomplete);
  EXPECT_EQ(combine_exit_codes(kExitIncomplete, kExitAborted), kExitAborted);
  EXPECT_EQ(combine_exit_codes(kExitAborted, kExitUsage), kExitUsage);
  EXPECT_EQ(combine_exit_codes(kExitUsage, kExitInternal), kExitInternal);
  EXPECT_EQ(combine_exit_codes(kExitOk, kExitAssertion), kExitAssertion);
  EXPECT_EQ(combine_exit_codes(kExitOk, kExitOk), kExitOk);
}

}  // namespace
}  // namespace llmload
