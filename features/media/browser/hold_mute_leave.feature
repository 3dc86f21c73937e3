@media @browser
Feature: Hold, mute and leave with one party's media in Chromium
  The browser participant stops and restarts its tracks with RTCRtpSender.replaceTrack, so a
  muted or held track sends no RTP at all; what it receives is counted by its getStats. Track
  events come from the page (ontrack) and from the call's events, as for every participant.

  Scenario: webrtc-rs holds a video call with Chromium and resumes it
    Given a media session with alice in Chromium and bob
    When alice calls bob with video
    And bob accepts
    Then alice receives bob's video within 3000 ms
    And bob receives alice's video within 3000 ms
    When bob puts the call on hold
    Then alice receives no video from bob for 500 ms
    And bob receives no audio from alice for 500 ms
    And bob receives no video from alice for 500 ms
    And alice's tracks are:
      | owner | kind  | local | state |
      | alice | audio | yes   | live  |
      | alice | video | yes   | live  |
      | bob   | audio | no    | held  |
      | bob   | video | no    | held  |
    When bob resumes the call
    Then bob's video reaches alice again within 500 ms
    And alice's video reaches bob again within 500 ms
    And alice's audio reaches bob again within 300 ms

  Scenario: Chromium holds the call and resumes it
    Given a media session with alice in Chromium and bob
    When alice calls bob with video
    And bob accepts
    Then bob receives alice's video within 3000 ms
    When alice puts the call on hold
    Then bob receives no video from alice for 500 ms
    And alice receives no audio from bob for 500 ms
    And bob's tracks are:
      | owner | kind  | local | state |
      | alice | audio | no    | held  |
      | alice | video | no    | held  |
      | bob   | audio | yes   | live  |
      | bob   | video | yes   | live  |
    When alice resumes the call
    Then alice's video reaches bob again within 500 ms
    And bob's audio reaches alice again within 300 ms

  Scenario: Chromium mutes its audio, then webrtc-rs mutes its video
    Given a media session with alice in Chromium and bob
    When alice calls bob with video
    And bob accepts
    Then bob receives alice's audio within 3000 ms
    And alice receives bob's video within 3000 ms
    When alice mutes her audio
    Then bob receives no audio from alice for 500 ms
    And bob's tracks are:
      | owner | kind  | local | state |
      | alice | audio | no    | muted |
      | alice | video | no    | live  |
      | bob   | audio | yes   | live  |
      | bob   | video | yes   | live  |
    When alice unmutes her audio
    Then alice's audio reaches bob again within 300 ms
    When bob mutes his video
    Then alice receives no video from bob for 500 ms
    And alice's tracks are:
      | owner | kind  | local | state |
      | alice | audio | yes   | live  |
      | alice | video | yes   | live  |
      | bob   | audio | no    | live  |
      | bob   | video | no    | muted |
    When bob unmutes his video
    Then bob's video reaches alice again within 500 ms

  Scenario: Chromium leaves the call, and the other side sees its tracks removed
    Given a media session with alice in Chromium and bob
    When alice calls bob with video
    And bob accepts
    Then bob receives alice's video within 3000 ms
    When alice hangs up
    Then bob receives no video from alice for 500 ms
    And bob receives no audio from alice for 500 ms
    And bob's tracks are:
      | owner | kind  | local | state |
      | bob   | audio | yes   | live  |
      | bob   | video | yes   | live  |
    And alice's tracks are:
      | owner | kind  | local | state |

  Scenario: webrtc-rs leaves the call with Chromium
    Given a media session with alice in Chromium and bob
    When alice calls bob with video
    And bob accepts
    Then alice receives bob's video within 3000 ms
    When bob hangs up
    Then alice receives no video from bob for 500 ms
    And alice's tracks are:
      | owner | kind  | local | state |
      | alice | audio | yes   | live  |
      | alice | video | yes   | live  |
