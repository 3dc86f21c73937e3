@media @browser
Feature: A 1:1 call with one party's media in Chromium
  One participant's media runs in headless Chromium: its capture (the frame-marked file
  callconf wrote), encoder, RTP stack and decoder. The other's runs on callconf's webrtc-rs
  path. Both directions are measured with the analysers every stream uses: what Chromium
  sends is decoded and compared by callconf, what it receives is reported by its page (the
  marks of the frames it shows, getStats).

  Scenario: Chromium calls webrtc-rs with video, and media flows both ways
    Given a media session with alice in Chromium and bob
    When alice calls bob with video
    And bob accepts
    Then bob receives alice's video within 3000 ms
    And alice receives bob's video within 3000 ms
    And alice receives bob's audio within 3000 ms
    When the measurements restart
    And media flows for 3 s
    Then the video PSNR from alice to bob is at least 30 dB
    And bob hears alice's tone
    And the median video latency from alice to bob is 40 ± 40 ms
    And the median video latency from bob to alice is 40 ± 40 ms
    And there is no freeze in the video from alice to bob
    And there is no freeze in the video from bob to alice
    And the machine kept up
    And alice's tracks are:
      | owner | kind  | local | state |
      | alice | audio | yes   | live  |
      | alice | video | yes   | live  |
      | bob   | audio | no    | live  |
      | bob   | video | no    | live  |
    And bob's tracks are:
      | owner | kind  | local | state |
      | alice | audio | no    | live  |
      | alice | video | no    | live  |
      | bob   | audio | yes   | live  |
      | bob   | video | yes   | live  |

  Scenario: webrtc-rs calls Chromium with audio
    Given a media session with alice and bob in Chromium
    When alice calls bob with audio
    And bob accepts
    Then bob receives alice's audio within 3000 ms
    And alice receives bob's audio within 3000 ms
    When media flows for 2 s
    Then alice hears bob's tone
    And the machine kept up
    And bob's tracks are:
      | owner | kind  | local | state |
      | alice | audio | no    | live  |
      | bob   | audio | yes   | live  |

  # The other direction is not checked here: its RTCP (NACKs, reports) rides the impaired
  # link, and Chromium's playout delay follows the RTT it sees (+32.8 ms in one of three runs).
  # Delay is measured before loss is added: a frame repaired by NACK arrives a round trip
  # late, so under loss the median rises by an amount that follows Chromium's frame sizes
  # (+6.4 ms over the 50 ms in one CI run), which is the encoder's doing, not the link's.
  Scenario: delay and loss on the link Chromium sends over are measured back
    Given a media session with alice in Chromium and bob
    When alice calls bob with video
    And bob accepts
    And media flows for 2 s
    And the baseline is recorded
    And the link from alice to bob has 50 ms delay
    And media flows for 1 s
    And the measurements restart
    And media flows for 5 s
    Then the median video latency from alice to bob exceeds the baseline by 50 ± 5 ms
    When the link from alice to bob has 50 ms delay and 5% loss
    And media flows for 1 s
    And the measurements restart
    And media flows for 6 s
    Then the packet loss from alice to bob is 5% ± 1.5%
