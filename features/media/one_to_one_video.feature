@media
Feature: 1:1 video call delivers marked frames at full quality
  Every frame carries its number; the receiver decodes it, looks up the frame that was sent
  and measures latency, PSNR and SSIM against it.

  Scenario: an unimpaired 320x240 VP8 call
    Given a media session with alice and bob
    When alice calls bob with video
    And bob accepts
    Then bob receives alice's video within 1500 ms
    And alice receives bob's video within 1500 ms
    When the measurements restart
    And media flows for 3 s
    Then the video PSNR from alice to bob is at least 30 dB
    And the video SSIM from bob to alice is at least 0.9
    And the median video latency from alice to bob is 25 ± 25 ms
    And there is no freeze in the video from alice to bob
    And the machine kept up
    And alice's tracks are:
      | owner | kind  | local | state |
      | alice | audio | yes   | live  |
      | alice | video | yes   | live  |
      | bob   | audio | no    | live  |
      | bob   | video | no    | live  |
